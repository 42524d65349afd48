"""Products on the phone: named in the caller's words, answered with price and stock; not taken for a
question the knowledge base answers; a question about something the directory does not have is said so."""

from __future__ import annotations

import pytest
import yaml
from flask import Flask
from sqlalchemy import delete, select

from ivr.db import get_db
from ivr.models import Product, ProductText
from ivr.products.catalogue import Catalogue, from_yaml
from ivr.products.heard import named
from ivr.products.store import import_catalogue


@pytest.mark.parametrize(
    ("language", "said", "meant"),
    [
        ("en-US", "do you have the trail runner in stock", ["Trail runner"]),
        ("en-US", "um hello could you tell me how much the electric kettle costs please", ["Electric kettle"]),
        ("en-US", "how much is the kettle", ["Electric kettle", "Glass kettle", "Stovetop kettle"]),
        ("en-US", "do you sell running shoes", ["Trail runner", "Road runner"]),
        ("en-US", "how much does delivery cost", []),
        ("en-US", "where is my package", []),
        ("en-US", 'kettle* OR NEAR(x) " :*', ["Electric kettle", "Glass kettle", "Stovetop kettle"]),
        ("en-US", "", []),
        ("fi-FI", "paljonko lasinen vedenkeitin maksaa", ["Lasinen vedenkeitin"]),
        ("fi-FI", "onko teillä polkujuoksukenkiä", ["Polkujuoksukenkä"]),
        ("lv-LV", "vai jums ir stikla tējkanna", ["Stikla tējkanna"]),
        (
            "lv-LV",
            "cik maksā tejkanna",
            ["Elektriskā tējkanna", "Stikla tējkanna", "Tējkanna plītij"],
        ),  # no accents heard
    ],
)
def test_the_products_a_caller_names(app: Flask, language: str, said: str, meant: list[str]) -> None:
    with app.app_context(), get_db().reading() as session:
        found = named(session, language, said, app.extensions["ivr.catalog"].words(language))
        assert sorted(product.name for product in found.products) == sorted(meant)
        # What can be had comes first among those named alike.
        order = ["in_stock", "low", "out_of_stock", "discontinued"]
        ranks = [order.index(product.availability) for product in found.products]
        assert ranks == sorted(ranks)


def test_a_question_the_knowledge_base_answers_is_not_taken_for_a_product(phone) -> None:  # type: ignore[no-untyped-def]
    call = phone()
    call.say("how do I return a kettle")  # a product named, but no price or stock asked
    call.hears("return")
    assert "costs" not in call.heard
    call.say("how much does delivery cost")  # "how much", but no product named
    call.hears("Standard delivery costs")


def test_a_product_question_past_the_end_of_the_range_says_so_then_leads_on(phone) -> None:  # type: ignore[no-untyped-def]
    call = phone()
    call.say("how much is a snowboard")
    call.hears("I couldn't find that among our products")
    call.say("do you have a snowboard")
    call.hears("I couldn't find that among our products")
    call.say("price of a jetski")
    call.hears("I couldn't find that among our products")
    call.hears("person|message")  # the third miss: a person or a message, as at any prompt


def _bags(*extra: dict) -> Catalogue:  # type: ignore[type-arg]
    """A Backpack, and 300 products sharing its word (each with it and "daypack" as keywords, as shops do)."""
    products = [
        {"code": "BP-0", "category": "bags", "price": "49.00", "availability": "in_stock",
         "en-US": {"name": "Backpack", "keywords": ["rucksack"]}},
        *({"code": f"BP-{n}", "category": "bags", "price": "19.00", "availability": "in_stock",
           "en-US": {"name": f"Light backpack {n}", "keywords": ["backpack", "daypack"]}} for n in range(1, 301)),
        *extra,
    ]  # fmt: skip
    return from_yaml(yaml.safe_dump({"categories": {"bags": {"en-US": "Bags"}}, "products": products}))


def _named(app: Flask, said: str) -> list[str]:
    with get_db().reading() as session:
        return [p.name for p in named(session, "en-US", said, app.extensions["ivr.catalog"].words("en-US")).products]


def test_the_product_named_whole_is_found_among_hundreds_that_share_its_word(app: Flask) -> None:
    with app.app_context():
        with get_db().transaction() as session:
            session.execute(delete(Product))  # the demo's products: only these
            import_catalogue(session, _bags(), "USD")
        assert _named(app, "do you have the backpack") == ["Backpack"]
        assert _named(app, "how much are backpacks") == ["Backpack"]
        assert _named(app, "how much is the rucksack") == ["Backpack"]  # by its keyword
        assert _named(app, "how much is the light backpack 200") == ["Light backpack 200"]
        assert _named(app, "do you have anything light") == []  # no product is called just "light"
        # Many named alike (by a keyword): three offered, the shortest names first.
        assert _named(app, "do you have a daypack") == ["Light backpack 1", "Light backpack 2", "Light backpack 3"]


def test_a_sentence_full_of_products_words_is_still_read(app: Flask) -> None:
    with app.app_context():
        with get_db().reading() as session:
            every = " ".join(session.scalars(select(ProductText.name).where(ProductText.language == "en-US")))
        assert len(set(every.lower().split())) > 40
        assert _named(app, f"{every} and the trail runner")  # looked up in the smaller groups of words


def test_names_changed_are_heard_at_the_next_question(app: Flask) -> None:
    with app.app_context():
        assert _named(app, "how much is the glass kettle") == ["Glass kettle"]  # the index is built
        renamed = {"code": "SB-1", "category": "bags", "price": "300.00", "availability": "low",
                   "en-US": {"name": "Snowboard bag"}}  # fmt: skip
        with get_db().transaction() as session:
            import_catalogue(session, _bags(renamed), "USD")
            glass = session.scalar(select(ProductText).where(ProductText.name == "Glass kettle"))
            assert glass is not None
            glass.name, glass.keywords = "Crystal kettle", []
        assert _named(app, "how much is the snowboard bag") == ["Snowboard bag"]
        assert _named(app, "how much is the crystal kettle") == ["Crystal kettle"]
        assert "Glass kettle" not in _named(app, "how much is the glass kettle")
        with get_db().transaction() as session:
            session.execute(delete(Product).where(Product.code == "SB-1"))
        assert _named(app, "how much is the snowboard bag") == []  # taken out: named no more
