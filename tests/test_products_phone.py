"""Products on the phone: named in the caller's words, answered with price and stock; not taken for a
question the knowledge base answers; a question about something the directory does not have is said so."""

from __future__ import annotations

import pytest
from flask import Flask

from ivr.db import get_db
from ivr.products.heard import named


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
