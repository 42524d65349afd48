"""The product directory on the help centre: a search that forgives case, accents and word endings,
category filters with counts, pages, a page per product, and the same as JSON."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from ivr.db import get_db
from ivr.models import Product, ProductCategory, ProductText
from ivr.products.catalogue import from_yaml
from ivr.products.heard import named
from ivr.products.store import import_catalogue
from ivr.web.products import PER_PAGE
from tests.helpers import postgres_url

__all__ = ["postgres_url"]

LANGUAGES = "en-US,fi-FI,lv-LV"


def shelf(n: int) -> dict:
    return {"code": f"MUG-{n:02}", "category": "kitchen", "price": f"{n}.50", "availability": "in_stock",
            "en-US": {"name": f"Mug number {n}"}, "fi-FI": {"name": f"Muki {n}"}}  # fmt: skip


CATALOGUE = {
    "categories": {
        "kitchen": {"en-US": "Kitchen", "fi-FI": "Keittiö", "lv-LV": "Virtuve"},
        "shoes": {"en-US": "Shoes", "fi-FI": "Kengät", "lv-LV": "Apavi"},
    },
    "products": [
        {"code": "KT-100", "category": "kitchen", "price": "39.90", "availability": "in_stock",
         "en-US": {"name": "Electric kettle", "description": "Boils a litre in three minutes.",
                   "keywords": ["water boiler"]},
         "fi-FI": {"name": "Vedenkeitin", "description": "Keittää litran vettä kolmessa minuutissa."},
         "lv-LV": {"name": "Elektriskā tējkanna", "description": "Uzvāra litru ūdens trīs minūtēs."}},
        {"code": "KT-200", "category": "kitchen", "price": "24.00", "availability": "low",
         "en-US": {"name": "Glass kettle", "description": "A kettle for the stove."},
         "fi-FI": {"name": "Lasinen vedenkeitin"}, "lv-LV": {"name": "Stikla tējkanna"}},
        {"code": "TT-1", "category": "kitchen", "price": "4.50", "availability": "in_stock",
         "en-US": {"name": "Tea towel", "description": "For drying cups beside the kettle."}},
        {"code": "FW-101", "category": "shoes", "price": "89.00", "availability": "out_of_stock",
         "sizes": ["41", "42"],
         "en-US": {"name": "Trail runner", "description": "For forest paths and gravel.", "colours": ["black"]},
         "fi-FI": {"name": "Polkujuoksukenkä", "description": "Metsäpoluille ja soralle.", "colours": ["musta"]},
         "lv-LV": {"name": "Taku skriešanas apavi", "colours": ["melna"]}},
        {"code": "FW-102", "category": "shoes", "price": "79.00", "availability": "discontinued",
         "en-US": {"name": "Mäkinen walking boot", "description": "Named after its maker."},
         "fi-FI": {"name": "Mäkisen kävelykenkä"}},
        *(shelf(n) for n in range(1, 24)),
    ],
}  # fmt: skip


@pytest.fixture
def shop(tmp_path, template_db) -> Iterator[tuple[Flask, FlaskClient]]:  # type: ignore[no-untyped-def]
    """A help centre in three languages whose directory holds CATALOGUE only."""
    from tests.conftest import make_app

    app = make_app(tmp_path, template_db, LANGUAGES=LANGUAGES)
    with app.app_context(), get_db().transaction() as session:
        for table in (ProductText, Product, ProductCategory):
            session.execute(delete(table))
        import_catalogue(session, from_yaml(yaml.safe_dump(CATALOGUE, allow_unicode=True)), "USD")
    yield app, app.test_client()
    app.extensions["ivr.db"].engine.dispose()


def names(client: FlaskClient, q: str, lang: str = "en-US", **extra: str) -> list[str]:
    reply = client.get("/help/api/products", query_string={"q": q, "lang": lang, **extra})
    assert reply.status_code == 200, reply.get_json()
    return [p["name"] for p in reply.get_json()["products"]]


@pytest.mark.parametrize(
    ("q", "lang", "found"),
    [
        ("kettle", "en-US", ["Electric kettle", "Glass kettle", "Tea towel"]),
        ("KETTL", "en-US", ["Electric kettle", "Glass kettle", "Tea towel"]),  # the start of a word, any case
        ("kettles", "en-US", ["Electric kettle", "Glass kettle", "Tea towel"]),  # a plural: its stem starts it
        ("electric kettle", "en-US", ["Electric kettle"]),  # every word must match
        ("water boiler", "en-US", ["Electric kettle"]),  # a keyword
        ("Makinen", "en-US", ["Mäkinen walking boot"]),  # no accents typed
        ("MÄKINEN", "en-US", ["Mäkinen walking boot"]),
        ("stove", "en-US", ["Glass kettle"]),  # the description
        ("black", "en-US", ["Trail runner"]),  # a colour
        ("42", "en-US", ["Trail runner"]),  # a size
        ("fw-101", "en-US", ["Trail runner"]),  # the code
        ("FW101", "en-US", ["Trail runner"]),
        ("vedenkeitintä", "fi-FI", ["Vedenkeitin", "Lasinen vedenkeitin"]),  # an inflected form
        ("vedenkeitinta", "fi-FI", ["Vedenkeitin", "Lasinen vedenkeitin"]),
        ("makisen", "fi-FI", ["Mäkisen kävelykenkä"]),
        ("keittiö", "fi-FI", None),  # a category's name finds its products
        ("tejkanna", "lv-LV", ["Elektriskā tējkanna", "Stikla tējkanna"]),
        ("tējkannu", "lv-LV", ["Elektriskā tējkanna", "Stikla tējkanna"]),
        ("elektriska", "lv-LV", ["Elektriskā tējkanna"]),
        ("vedenkeitin", "en-US", []),  # only the visitor's language's words
        ("submarine", "en-US", []),
    ],
)
def test_a_search_forgives_case_accents_and_endings(shop, q: str, lang: str, found: list[str] | None) -> None:  # type: ignore[no-untyped-def]
    _app, client = shop
    if found is None:
        reply = client.get("/help/api/products", query_string={"q": q, "lang": lang}).get_json()
        assert reply["total"] == 25 and set(reply["categories"]) == {"kitchen"}
        return
    got = names(client, q, lang)
    assert sorted(got) == sorted(found)
    if "Tea towel" in found:  # a word in the name counts for more than one in the description
        assert got[-1] == "Tea towel"


@pytest.mark.parametrize(
    "q", ['"', '" OR 1=1 --', "kettle*", "NEAR(kettle glass)", "kettle:*", "a & b | !c", "(", "^kettle", "col:kettle",
          "k\x00ettle", "'); DROP TABLE products; --", "*", "_", "ä" * 400],
)  # fmt: skip
def test_nothing_typed_is_an_operator(shop, q: str) -> None:  # type: ignore[no-untyped-def]
    _app, client = shop
    assert client.get("/help/api/products", query_string={"q": q}).status_code == 200
    assert client.get("/help/products", query_string={"q": q}).status_code == 200
    assert sorted(names(client, "kettle*")) == ["Electric kettle", "Glass kettle", "Tea towel"]  # its words count


def test_categories_count_what_the_search_found_and_filter_it(shop) -> None:  # type: ignore[no-untyped-def]
    _app, client = shop
    reply = client.get("/help/api/products", query_string={"q": "kettle", "lang": "en-US"}).get_json()
    assert reply["categories"] == {"kitchen": {"name": "Kitchen", "count": 3}}
    everything = client.get("/help/api/products", query_string={"lang": "en-US"}).get_json()
    assert everything["categories"] == {"kitchen": {"name": "Kitchen", "count": 26},
                                        "shoes": {"name": "Shoes", "count": 2}}  # fmt: skip
    assert everything["total"] == 28
    shoes = client.get("/help/api/products", query_string={"lang": "en-US", "category": "shoes"}).get_json()
    assert [p["code"] for p in shoes["products"]] == ["FW-102", "FW-101"]  # by name: Mäkinen..., Trail...
    assert shoes["total"] == 2 and shoes["categories"]["kitchen"]["count"] == 26  # other shelves still counted
    page = client.get("/help/products", query_string={"lang": "fi-FI", "q": "vedenkeitin"}).get_data(as_text=True)
    assert 'Keittiö</a> <span class="count">2</span>' in page and "Kengät" not in page


def test_pages_of_twenty(shop) -> None:  # type: ignore[no-untyped-def]
    _app, client = shop
    first = client.get("/help/api/products", query_string={"lang": "en-US", "category": "kitchen"}).get_json()
    second = client.get("/help/api/products", query_string={"lang": "en-US", "category": "kitchen", "page": "2"})
    second = second.get_json()
    assert (first["total"], first["pages"], len(first["products"]), len(second["products"])) == (26, 2, PER_PAGE, 6)
    assert not {p["code"] for p in first["products"]} & {p["code"] for p in second["products"]}
    html = client.get("/help/products", query_string={"lang": "en-US", "category": "kitchen"}).get_data(as_text=True)
    assert "Page 1 of 2" in html and 'rel="next"' in html and 'rel="prev"' not in html
    # A page past the end shows the last; one that is not a number, the first.
    assert "Page 2 of 2" in client.get("/help/products?category=kitchen&page=9").get_data(as_text=True)
    assert "Page 1 of 2" in client.get("/help/products?category=kitchen&page=x").get_data(as_text=True)


def test_a_product_page_says_price_and_availability_in_the_visitors_language(shop) -> None:  # type: ignore[no-untyped-def]
    _app, client = shop
    fi = client.get("/help/products/FW-101?lang=fi-FI").get_data(as_text=True)
    assert "Polkujuoksukenkä" in fi and "89,00" in fi and "Loppu varastosta" in fi and "41, 42" in fi and "musta" in fi
    en = client.get("/help/products/KT-200?lang=en-US").get_data(as_text=True)
    assert "$24.00" in en and "Only a few left" in en
    lv = client.get("/help/products/KT-100?lang=lv-LV").get_data(as_text=True)
    assert "Elektriskā tējkanna" in lv and "39,90" in lv and "Ir noliktavā" in lv
    assert client.get("/help/products/NOPE-1").status_code == 404
    assert client.get("/help/products/FW-102?lang=lv-LV").status_code == 404  # no Latvian words for it


def test_the_json_search_says_what_is_wrong(shop) -> None:  # type: ignore[no-untyped-def]
    _app, client = shop
    for query, said in (
        ({"lang": "de-DE"}, "lang must be one of en-US, fi-FI, lv-LV"),
        ({"page": "0"}, "page must be a whole number"),
        ({"page": "9" * 5000}, "page must be a whole number"),
        ({"category": "<b>"}, "category must be one of kitchen, shoes"),
        ({"q": "x" * 501}, "q is longer than 500 characters"),
    ):
        reply = client.get("/help/api/products", query_string=query)
        assert reply.status_code == 400 and said in reply.get_json()["error"], query
        assert reply.headers["Access-Control-Allow-Origin"] == "*"
    ok = client.get("/help/api/products", query_string={"q": "trail", "lang": "fi-FI"})
    assert ok.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/help/products", query_string={"q": "x" * 501}).status_code == 400


def test_what_is_typed_is_shown_back_as_text(shop) -> None:  # type: ignore[no-untyped-def]
    _app, client = shop
    html = client.get("/help/products", query_string={"q": "<script>alert(1)</script>"}).get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_the_home_page_leads_to_the_directory(shop) -> None:  # type: ignore[no-untyped-def]
    _app, client = shop
    assert 'href="/help/products?lang=fi-FI"' in client.get("/help/?lang=fi-FI").get_data(as_text=True)


def test_postgresql_finds_the_same(postgres_url: str) -> None:
    """The same searches on PostgreSQL's tsvector as on SQLite's FTS5: accents, case, starts, stems,
    counts, the name's word first."""
    from ivr import create_app
    from ivr.db import upgrade
    from tests.conftest import TOKEN

    upgrade(postgres_url)
    app = create_app({"DATABASE_URL": postgres_url, "TWILIO_AUTH_TOKEN": TOKEN, "LANGUAGES": LANGUAGES})
    with app.app_context(), get_db().transaction() as session:
        import_catalogue(session, from_yaml(yaml.safe_dump(CATALOGUE, allow_unicode=True)), "USD")
    client = app.test_client()
    try:
        for q, lang, found in (
            ("KETTL", "en-US", ["Electric kettle", "Glass kettle", "Tea towel"]),
            ("kettles", "en-US", ["Electric kettle", "Glass kettle", "Tea towel"]),
            ("Makinen", "en-US", ["Mäkinen walking boot"]),
            ("fw101", "en-US", ["Trail runner"]),
            ("vedenkeitintä", "fi-FI", ["Lasinen vedenkeitin", "Vedenkeitin"]),
            ("tejkanna", "lv-LV", ["Elektriskā tējkanna", "Stikla tējkanna"]),
            ("a & b | !c:*", "en-US", []),
        ):
            got = names(client, q, lang)
            assert sorted(got) == sorted(found), q
            if "Tea towel" in found:
                assert got[-1] == "Tea towel"
        reply = client.get("/help/api/products", query_string={"q": "kettle", "lang": "en-US"}).get_json()
        assert reply["categories"] == {"kitchen": {"name": "Kitchen", "count": 3}}
        # The phone's look-up of what a caller names, and its index built again after a change.
        words = app.extensions["ivr.catalog"].words("en-US")
        with app.app_context(), get_db().reading() as session:
            assert [p.name for p in named(session, "en-US", "how much is the glass kettle", words).products] == [
                "Glass kettle"
            ]
        with app.app_context(), get_db().transaction() as session:
            session.scalars(select(ProductText).where(ProductText.name == "Glass kettle")).one().name = "Clear kettle"
        with app.app_context(), get_db().reading() as session:
            assert [p.name for p in named(session, "en-US", "is the clear kettle in stock", words).products] == [
                "Clear kettle"
            ]
    finally:
        app.extensions["ivr.db"].engine.dispose()
