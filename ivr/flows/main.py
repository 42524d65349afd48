"""The way in, and the ways out: the greeting, the main menu that takes whatever the caller says in
their own words, the commands that work at every prompt, and the goodbye.

Anything said at the main menu (or at an "anything else?") that is surely none of the options goes
to `own_words`: a product it names (ivr/flows/products.py), the option the words resemble when the knowledge base has nothing clearly better
(`meant_option`), else the knowledge base's answer (one clear answer is read, close ones are offered
as a short menu); with nothing at all, the caller is asked once more in other words, then offered
the topics, a person or a message.
"""

from __future__ import annotations

from collections.abc import Sequence

from babel.lists import format_list

from ivr.flows import problems, products, survey
from ivr.flows.actions import Say
from ivr.flows.context import Context
from ivr.flows.nodes import Command, Goto, Handler, Hangup, Menu, Message, Option, Question
from ivr.flows.questions import answer_for, decide, log_not_found
from ivr.flows.state import CallState
from ivr.knowledge import decision as knowledge
from ivr.speech.matching import words_of
from ivr.speech.numbers import numbers_in

COMMANDS = (
    Command("agent", key="0", goto="agent_hours"),
    Command("main_menu", key="9", goto="main_menu"),
    Command("repeat", key="*"),
    Command("help"),
    Command("goodbye", goto="goodbye"),
)

MAIN_OPTIONS = (
    Option("1", "account", goto="account_start"),
    Option("2", "order_status", goto="order_number"),
    Option("3", "questions", goto="faq_start"),
    Option("", "leave_message", goto="message_by_choice"),
    Option("", "call_me_back", goto="callback_by_choice"),
    # Where the line speaks several languages: 8, or a language's name, offers them again.
    Option("8", "language", goto="language_choices", only_if="several_languages"),
    # A problem to report ("I was charged twice"), named in the caller's words: ivr/flows/problems.py.
    *problems.OPTIONS,
)
# The caller's words are a question for the knowledge base, kept as "faq_question".
OWN_WORDS = Question(store_as="faq_question", goto="own_words")
# Where words that found no answer may still lead: the option or command they resembled.
GUESSES = tuple(dict.fromkeys([o.goto for o in MAIN_OPTIONS] + [c.goto for c in COMMANDS if c.goto]))
PROBLEMS = frozenset(o.goto for o in problems.OPTIONS)
# The length of an order number (ivr/flows/orders.py asks for 4 digits).
ORDER_DIGITS = 4
# BM25 scores of the knowledge base's best entry (bench/faq.py): from CLEAR up, the entry is what
# the caller means even when the words also resemble an option ("I need to change my delivery
# address"); below LIKELY, the option they resemble is ("can you look up my order for me"). Between
# the two, what the caller says of whose things it is decides: their own ("my bill", "my parcel")
# make it the option, the business's ("do you", "usually") the knowledge base.
CLEAR, LIKELY = 5.0, 3.5


def meant_option(asked: str, guess: str | None, decided: knowledge.Decision, mine: Sequence[str],
                 yours: Sequence[str] = ()) -> bool:  # fmt: skip
    """Whether the option the caller's words resemble is what they mean, rather than the knowledge
    base's answers (`decided` for the same words): `mine` the words that make things the caller's
    own ("has my parcel been sent out": their order, unless the knowledge base is sure of one answer), `yours`
    those that make a question about the business in general."""
    if guess not in GUESSES:
        return False
    found = decided.ranked
    best = found[0].score if found else 0.0
    said = words_of(asked)
    if any(word in mine for word in said):
        return best < CLEAR or decided.kind != "answer"
    if any(word in yours for word in said):
        return not found
    return best < LIKELY


def weighed(asked: str, decided: knowledge.Decision, mine: Sequence[str]) -> knowledge.Decision:
    """`decided`, less a weak lead when the caller speaks of their own things: "when will my washing
    machine be delivered" is their order, not a question to ask about delivery times."""
    if decided.why == "weak" and any(word in mine for word in words_of(asked)):
        return knowledge.Decision("none", (), decided.ranked, "not_covered", decided.missing)
    return decided


def own_words(state: CallState, context: Context) -> Goto:
    """The caller's own words: an order number, the option they resemble, the knowledge base's
    answer; or, with nothing, a miss at the prompt they were at (asked again in other words, then
    the topics, a person or a message; the third miss leads on as at any prompt)."""
    asked = str(state.collected.get("faq_question", "")).strip()
    guess = state.collected.pop("faq_question_guess", None)
    asked_at = str(state.collected.pop("faq_question_at", "") or "main_menu")
    numbers = numbers_said(asked, state, context)
    order = numbers[0] if len(numbers) == 1 and len(numbers[0]) == ORDER_DIGITS else None
    if order is not None and guess not in PROBLEMS:  # a problem takes the number along
        return Goto("order_lookup", remember={"order_number": order}, forget=("own_words_misses",))
    mine, yours = (
        context.catalog.phrases(state.language, name) if context.catalog else [] for name in ("mine", "yours")
    )
    decided = weighed(asked, decide(state, context, asked), mine) if guess in PROBLEMS else None
    if decided is not None and not decided.whole:
        return Goto(str(guess), forget=("own_words_misses",))  # a problem, unless every word is one answer's
    # A product named: asked about ("how much is the kettle"), or named alone ("the glass kettle");
    # not named in another question ("how do I return a kettle"). The knowledge base is not asked.
    asking = products.asks_about_a_product(state, context, asked)
    named = products.product_named(state, context, asked)
    if named.products and (asking or named.whole):
        return products.to_product(state, named, numbers)
    if decided is None:
        decided = weighed(asked, decide(state, context, asked), mine)
    if meant_option(asked, guess, decided, mine, yours):
        return Goto(str(guess), forget=("own_words_misses",))
    answered = answer_for(state, context, asked, decided)
    if answered is not None:
        return answered
    log_not_found(state, context, asked)
    # Asked about a product the directory does not have: said so, then the usual way on.
    not_found = Say("product_not_found") if asking else Say("own_words_not_found")
    misses = state.retries + 1
    if misses >= int(context.settings.get("MAX_RETRIES", 3)):
        return Goto("after_failures", say=(not_found,), remember={"failed_at": asked_at},
                    forget=("own_words_misses",))  # fmt: skip
    if not state.collected.get("own_words_misses"):
        return Goto("ask_again", say=(not_found,) if asking else (), remember={"own_words_misses": 1}, misses=misses)
    return Goto("faq_again", say=(not_found,), remember={"faq_asked": asked},
                forget=("own_words_misses",), misses=misses)  # fmt: skip


def numbers_said(asked: str, state: CallState, context: Context) -> list[str]:
    """The numbers said in so many words ("five thousand and three"), read once: the only one, of an
    order number's length, is that order's status; of two digits or fewer, with a product, a size."""
    if context.catalog is None:
        return []
    return numbers_in(asked, context.catalog.numbers(state.language))


def declined(state: CallState, context: Context) -> Goto:
    """'No thanks' to an offer: a goodbye for a caller who has what they came for, otherwise the
    question whether there is anything else."""
    return Goto("goodbye" if state.collected.get("helped") else "anything_else")


def goodbye(state: CallState, context: Context) -> Goto:
    """A warm goodbye that names what the caller got done in this call (a share of them first asked
    whether that solved what they called about: ivr/flows/survey.py)."""
    if survey.asks(state, context):
        return Goto("survey", remember={"surveyed": 1})
    done = [str(d) for d in state.collected.get("helped") or []]
    if not done:
        return Goto("call_over", say=(Say("goodbye"),))
    labels = [context.text(state.language, f"done_{d}") for d in done]
    together = format_list(labels, locale=state.language.replace("-", "_"))
    return Goto("call_over", say=(Say("goodbye_helped", {"done": together}),))


NODES = [
    Message("greeting", prompt="greeting", goto="main_menu"),
    Menu(
        "main_menu",
        prompt="main_menu",
        options=MAIN_OPTIONS,
        help="main_menu_help",
        footer="person_anywhere",
        question=OWN_WORDS,
    ),
    Handler(
        "own_words",
        run=own_words,
        exits={
            **{option.goto: "words meant this option" for option in MAIN_OPTIONS},
            **{command.goto: "words meant this command" for command in COMMANDS if command.goto},
            "order_lookup": "an order number",
            "product_answer": "a product named",
            "product_pick": "products named alike",
            "faq_answer": "one clear answer",
            "faq_confirm": "one, not sure",
            "faq_refine": "a few close answers",
            "ask_again": "nothing found: ask once more",
            "faq_again": "nothing found again",
            "after_failures": "the third miss",
        },
    ),
    Menu(
        "ask_again",
        prompt="ask_again",
        options=(),
        help="main_menu_help",
        understands="main_menu",
        question=OWN_WORDS,
        recovery=True,
    ),
    Handler("declined", run=declined, exits={"goodbye": "already helped", "anything_else": "not yet helped"}),
    Menu(
        "anything_else",
        prompt="anything_else",
        options=(Option("", "nothing_else", goto="goodbye"), Option("", "yes", goto="main_menu")),
        help="anything_else_help",
        footer="to_main_menu",
        question=OWN_WORDS,
        understands="main_menu",
        anything_else=True,
    ),
    Handler("goodbye", run=goodbye, exits={"call_over": "goodbye naming what was done", "survey": "asked first"}),
    Hangup("call_over"),
    Hangup("too_many_failures", prompt="goodbye_after_failures"),
]

HANDLER_PHRASES = {"mine", "yours"}
HANDLER_PROMPTS = {"goodbye": set(), "goodbye_helped": {"done"}, "own_words_not_found": set(),
                   "done_order_status": set(), "done_account": set(), "done_answer": set()}  # fmt: skip
