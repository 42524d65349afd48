"""Products on the phone: a caller who names a product at the main menu or after "anything else"
("do you have the trail runner in stock", "how much is the kettle") hears its price and whether it can
be had, in their language; two or three products named alike are offered to choose from; a question
about a product that is not in the range is said so, honestly, with the usual way on.

The words decide (ivr/products/heard.py): a product is named when all the words of its name or of
one of its keywords were said. Whether the caller asks about it (rather than, say, how to return it)
is for `main.own_words`: a product question's words (`product_cue`: "how much", "in stock", "do you
have") make it one, and so does the product's name said alone; else the words go on to the options
and the knowledge base as before.
"""

from __future__ import annotations

from sqlalchemy import select

from ivr.flows.actions import Say
from ivr.flows.context import Context
from ivr.flows.nodes import Choose, Goto, Handler, Menu, Option, Question
from ivr.flows.state import CallState
from ivr.flows.texts import offer_text
from ivr.models import Product, ProductText
from ivr.products.heard import Named, named
from ivr.products.heard import Product as NamedProduct
from ivr.speech.matching import ENGLISH, words_of

# What a product question carries from step to step.
PRODUCT_KEYS = ("product_code", "product_choices", "product_size")


def product_named(state: CallState, context: Context, asked: str) -> Named:
    """The products the caller's words name, in the call's language."""
    words = context.catalog.words(state.language) if context.catalog else ENGLISH
    return named(context.session, state.language, asked, words)


def asks_about_a_product(state: CallState, context: Context, asked: str) -> bool:
    """Whether the words ask what something costs or whether it can be had (the catalog's `product_cue`)."""
    if context.catalog is None:
        return False
    said = f" {' '.join(words_of(asked))} "
    return any(f" {' '.join(words_of(cue))} " in said for cue in context.catalog.phrases(state.language, "product_cue"))


def to_product(state: CallState, found: Named, numbers: list[str]) -> Goto:
    """To the one product named (with a size the caller said among `numbers`: one of two digits or
    fewer), or to a choice among a few."""
    sizes = [n for n in numbers if len(n) <= 2]
    size = sizes[0] if len(sizes) == 1 else ""
    if found.certain:
        state.transient["product"] = found.products[0]  # this step's answer needs no look-up again
        return Goto("product_answer", remember={"product_code": found.products[0].code, "product_size": size},
                    forget=("own_words_misses",))  # fmt: skip
    choices = [{"label": product.name, "value": product.code} for product in found.products]
    return Goto("product_pick", remember={"product_choices": choices, "product_size": size},
                forget=("own_words_misses",))  # fmt: skip


def product_answer(state: CallState, context: Context) -> Goto:
    """The product's price and whether it can be had (and the size asked for, whether it comes in it)."""
    code = str(state.collected.get("product_code", ""))
    product = state.transient.get("product")
    if not isinstance(product, NamedProduct) or product.code != code:  # picked from a choice: looked up
        product = _product(context, code, state.language)
    if product is None:  # taken out of the directory during the call
        return Goto("product_result", say=(Say("product_not_found"),), forget=PRODUCT_KEYS)
    speak = context.speaker(state.language)
    values = {"name": product.name}
    if product.availability != "discontinued":  # what it cost once is not said
        values["price"] = speak.money(product.price)
    said = [Say(f"product_{product.availability}", values)]
    size = str(state.collected.get("product_size") or "")
    if size and product.sizes and product.availability != "discontinued":
        said.append(Say("product_size_yes" if size in product.sizes else "product_size_no", {"size": size}))
    if product.availability == "discontinued":
        return Goto("product_result", say=tuple(said), repeatable=True, forget=("product_choices",))
    answered = Goto("product_result", say=tuple(said), repeatable=True, helped="product", forget=("product_choices",))
    return offer_text(state, context, answered, f"/help/products/{product.code}")


def _product(context: Context, code: str, language: str) -> NamedProduct | None:
    """The product `code` as its answer says it in `language`, or None when it is not (any more)."""
    query = select(Product, ProductText).join(ProductText, ProductText.product_id == Product.id)
    found = context.session.execute(query.where(Product.code == code, ProductText.language == language)).first()
    if found is None:
        return None
    product, text = found
    return NamedProduct(product.code, text.name, product.availability, product.price, tuple(product.sizes))


NODES = [
    Handler(
        "product_answer",
        run=product_answer,
        exits={"product_result": "its price and availability", "text_offer": "its price, a text offered"},
    ),
    Choose(
        "product_pick",
        prompt="product_pick",
        choices_from="product_choices",
        store_as="product_code",
        goto="product_answer",
        announce="product_choice",
        help="product_pick_help",
        footer="faq_none_of_these",
        also=(Option("", "none_of_these", goto="ask_again"),),
    ),
    Menu(
        "product_result",
        prompt="anything_else",
        options=(Option("", "nothing_else", goto="goodbye"), Option("", "yes", goto="main_menu")),
        help="anything_else_help",
        footer="to_main_menu",
        question=Question(store_as="faq_question", goto="own_words"),
        understands="main_menu",
        anything_else=True,
    ),
]

HANDLER_PHRASES = {"product_cue"}
HANDLER_PROMPTS = {
    "product_in_stock": {"name", "price"},
    "product_low": {"name", "price"},
    "product_out_of_stock": {"name", "price"},
    "product_discontinued": {"name"},
    "product_size_yes": {"size"},
    "product_size_no": {"size"},
    "product_not_found": set(),
    "done_product": set(),
}
