"""Order status on the help centre: an order number and the last four digits of the account's phone
number (or its postcode) give the status in the phone's words; any wrong pair gets one answer, after the
same work; guessing is refused after a few misses, per address and per order number."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from ivr import hours as clock
from ivr.db import get_db
from ivr.models import Customer, Order, OrderLookup
from ivr.orders import MISSES, order_report
from ivr.spoken import Speaker
from tests.conftest import make_app
from tests.helpers import csrf

CLOCK = "2026-11-24T10:00:00-05:00"
NOT_FOUND = "We could not find an order with that number and those details."


@pytest.fixture
def line(tmp_path: Path, template_db: Path) -> Flask:
    return make_app(tmp_path, template_db, LANGUAGES="en-US,fi-FI,lv-LV", SECRET_KEY="orders", CLOCK=CLOCK)


def ask(line: Flask, number: str, proof: str, lang: str = "en-US", address: str = "192.0.2.1", **extra: str):  # type: ignore[no-untyped-def]
    """The form filled in and sent by a visitor at `address`."""
    client = line.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    token = csrf(client, f"/help/orders?lang={lang}")
    return client.post(
        f"/help/orders?lang={lang}", data={"number": number, "proof": proof, "csrf_token": token, **extra}
    )


def said_by_phone(line: Flask, number: str, language: str) -> str:
    """The words the phone says for this order's status, with its numbers as written."""
    with line.app_context(), get_db().reading() as session:
        order = session.scalar(select(Order).where(Order.number == number))
        catalog = line.extensions["ivr.catalog"]
        today = line.extensions["ivr.hours"].local(clock.now(line.config)).date()
        said = order_report(order, Speaker(catalog, language, today, "USD"), str)
        return catalog.text(language, said.prompt, dict(said.values))


@pytest.mark.parametrize(
    ("number", "proof", "lang"),
    [
        ("5001", "0001", "en-US"),
        ("5001", "10001", "en-US"),
        ("5004", " 9 4 1 0 5 ", "fi-FI"),
        ("5005", "0003", "lv-LV"),
    ],
)
def test_the_right_pair_gives_the_status_in_the_phones_words(line: Flask, number: str, proof: str, lang: str) -> None:
    reply = ask(line, number, proof, lang)
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert said_by_phone(line, number, lang) in page.replace("&#39;", "'")
    assert re.search(rf"<h2 id=\"order\">[^<]*{number}</h2>", page)
    if number == "5001":
        assert "UPS" in page and "6784" in page  # the tracking number's last four, as written


def test_every_wrong_pair_gets_the_same_answer_after_the_same_work(line: Flask) -> None:
    with line.app_context(), get_db().transaction() as session:
        session.scalar(select(Customer).where(Customer.account_number == "100003")).phone = None  # no phone on it
    statements: list[int] = []
    engine = line.extensions["ivr.db"].engine

    def counted(*_args: object) -> None:
        statements[-1] += 1

    event.listen(engine, "before_cursor_execute", counted)
    pages = []
    try:
        for number, proof, address in (
            ("5001", "9999", "192.0.2.10"),  # the wrong digits
            ("9999", "0001", "192.0.2.11"),  # no such order
            ("5005", "0003", "192.0.2.12"),  # the account has no phone (any more)
            ("5001", "0001 2", "192.0.2.13"),  # the digits and more
        ):
            statements.append(0)
            reply = ask(line, number, proof, address=address)
            assert reply.status_code == 200
            page = re.sub(r'value="[^"]*"', "", reply.get_data(as_text=True))  # the token and the number given
            pages.append(page)
            assert NOT_FOUND in page
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    assert len(set(pages)) == 1
    # The form's page (same for all), then the look-up: every case ran the same statements.
    assert len(set(statements)) == 1, statements


def test_guessing_from_one_address_is_refused_after_the_misses_right_pair_included(line: Flask) -> None:
    for guess in range(MISSES):
        assert NOT_FOUND in ask(line, "5001", f"9{guess:03}", address="198.51.100.7").get_data(as_text=True)
    refused = ask(line, "5001", "0001", address="198.51.100.7")
    assert refused.status_code == 429 and "too many tries" in refused.get_data(as_text=True)
    # Another visitor looking up another order is not held up (this order's misses hold it for an hour).
    assert "Order 5003" in ask(line, "5003", "0002", address="198.51.100.8").get_data(as_text=True)
    assert ask(line, "5001", "0001", address="198.51.100.8").status_code == 429


def test_guessing_one_order_from_many_addresses_is_refused_too(line: Flask) -> None:
    for n in range(MISSES):
        ask(line, "5002", "1111", address=f"203.0.113.{n}")
    assert ask(line, "5002", "0001", address="203.0.113.99").status_code == 429
    assert ask(line, "5003", "0002", address="203.0.113.99").status_code == 200  # another order is not held up
    # So is walking through order numbers: each number's misses count on its own, the address's together.
    for n in range(MISSES):
        ask(line, str(6000 + n), "0001", address="203.0.113.200")
    assert ask(line, "5001", "0001", address="203.0.113.200").status_code == 429


def test_misses_are_forgotten_after_their_window_and_rows_after_a_day(tmp_path: Path, template_db: Path) -> None:
    early = make_app(tmp_path, template_db, SECRET_KEY="orders", CLOCK="2026-11-24T10:00:00-05:00")
    for guess in range(MISSES):
        ask(early, "5001", f"9{guess:03}")
    assert ask(early, "5001", "0001").status_code == 429
    later = make_app(tmp_path, template_db, SECRET_KEY="orders", CLOCK="2026-11-25T10:30:00-05:00")
    assert "Order 5001" in ask(later, "5001", "0001").get_data(as_text=True)
    with later.app_context(), get_db().reading() as session:
        assert session.scalar(select(func.count()).select_from(OrderLookup)) == 1  # the day-old ones deleted
        kept = session.scalar(select(OrderLookup))
        assert kept.found and kept.number == "5001" and kept.address != "127.0.0.1" and len(kept.address) == 32
        assert kept.at.replace(tzinfo=dt.UTC) == clock.now(later.config)


@pytest.mark.parametrize(
    ("number", "proof", "said"),
    [
        ("50O1", "0001", "Give your order number, in digits."),
        ("<script>alert(1)</script>", "0001", "Give your order number, in digits."),
        ("", "0001", "Give your order number, in digits."),
        ("5001", "", "Give the last four digits"),
        ("5001", "1" * 17, "Give the last four digits"),
        ("5" * 21, "0001", "Give your order number, in digits."),
    ],
)
def test_a_mistake_says_what_to_fix_and_keeps_the_number_never_the_proof(
    line: Flask, number: str, proof: str, said: str
) -> None:
    reply = ask(line, number, proof)
    page = reply.get_data(as_text=True)
    assert reply.status_code == 400 and said in page
    assert "<script>alert" not in page
    if proof:
        assert f'value="{proof}"' not in page
    with line.app_context(), get_db().reading() as session:
        assert session.scalar(select(func.count()).select_from(OrderLookup)) == 0  # not a look-up, not a miss


def test_a_form_without_its_token_is_sent_back(line: Flask) -> None:
    client: FlaskClient = line.test_client()
    reply = client.post("/help/orders", data={"number": "5001", "proof": "0001"})
    assert reply.status_code == 400 and "The form had expired" in reply.get_data(as_text=True)


def test_the_front_page_leads_to_it_in_each_language(line: Flask) -> None:
    client = line.test_client()
    assert "Missä tilaukseni on?" in client.get("/help/?lang=fi-FI").get_data(as_text=True)
    page = client.get("/help/orders?lang=lv-LV").get_data(as_text=True)
    assert "Pasūtījuma numurs" in page and "pasta indekss" in page
