"""The queue's search: people, accounts, numbers in any format, order numbers said, transcript words;
ranked by the database's full-text index; wildcards literal; counts and pages that combine with it."""

from __future__ import annotations

import datetime as dt
import secrets

from flask import Flask
from sqlalchemy import select

from ivr.agents import search
from ivr.db import get_db
from ivr.models import Call, Customer, Message
from tests.test_agents import api_token, app, bearer, leave_message, login  # noqa: F401

__all__ = ["app"]


def left(app: Flask, caller: str, transcript: str = "", minutes_ago: int = 0, collected: dict | None = None) -> int:
    """A message as a call and the worker leave it: its call, its transcript, its search document."""
    sid = "CA" + secrets.token_hex(16)
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    with app.app_context(), get_db().transaction() as session:
        customer = session.scalar(select(Customer).where(Customer.phone == caller))
        session.add(Call(call_sid=sid, from_number=caller, to_number="+15550100000", node="call_over",
                         collected=collected or {}, events=[]))  # fmt: skip
        message = Message(recording_sid="RE" + secrets.token_hex(16), call_sid=sid, recording_url="https://x",
                          caller=caller, customer_id=None, reason="caller_choice", duration_seconds=9,
                          created_at=at, transcript=transcript, transcript_status="done" if transcript else "waiting")  # fmt: skip
        session.add(message)
        session.flush()
        search.refresh(session, message)
        assert customer is None or customer.name in ("Ada Lovelace", "Grace Hopper", "Alan Turing")
        return message.id


def found(app: Flask, query: str, show: str = "all", page: int = 1) -> dict:
    client = app.test_client()
    reply = client.get("/agent/api/messages", query_string={"show": show, "q": query, "page": page},
                       headers=bearer(token_of(app)))  # fmt: skip
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply.get_json()


def token_of(app: Flask) -> str:
    if "_token" not in app.config:
        app.config["_token"] = api_token(app)
    return app.config["_token"]


def ids(reply: dict) -> list[int]:
    return [m["id"] for m in reply["messages"]]


def check_search(app: Flask) -> None:
    """The same behaviour on SQLite (FTS5) and PostgreSQL (tsvector): run by both."""
    ada = left(app, "+15550100001", "I am calling about order five zero zero one which never arrived")
    grace = left(app, "+15550100002", "please send the invoice again", collected={"order_number": "5003"})
    stranger = left(app, "+442079460000", "refund refund I want my refund")
    unknown = left(app, "", "a refund for the parcel please, the parcel was late")
    for query, expected in [("Ada", [ada]), ("lovelace", [ada]), ("ADA LOVELACE", [ada]), ("100002", [grace]),
                            ("+1 555 010 0001", [ada]), ("555-010-0002", [grace]), ("(555) 010-0001", [ada]),
                            ("0100002", [grace]), ("15550100001", [ada]), ("020 7946 0000", [stranger]),
                            ("5001", [ada]), ("5003", [grace]), ("invoices", [grace]), ("arrive", [ada]),
                            ("ada invoice", [])]:  # fmt: skip
        reply = found(app, query)
        assert ids(reply) == expected, (query, ids(reply))
        assert reply["total"] == len(expected) and reply["query"] == query
    # Ranked: the message that is all about refunds comes first.
    assert ids(found(app, "refund")) == [stranger, unknown]
    # Nothing is a wildcard or an operator: signs match nothing, FTS syntax is only words.
    for query in ("%", "_", "*", '"', "refund*", "ref%", "NEAR(refund parcel)", "refund OR invoice", "-refund"):
        reply = found(app, query)
        assert reply["query"] == query
        assert set(ids(reply)) <= {stranger, unknown}, query
    assert found(app, "%")["total"] == 0 and found(app, "refund OR invoice")["total"] == 0


def test_search_finds_people_numbers_orders_and_words(app: Flask) -> None:
    check_search(app)


def test_counts_and_pages_combine_with_the_search(app: Flask) -> None:
    for n in range(120):
        left(app, "+15550100003" if n % 2 else "+15550100009", f"parcel number {n}", minutes_ago=200 - n)
    reply = found(app, "", show="open")
    assert reply["total"] == 120 and reply["pages"] == 3 and len(reply["messages"]) == 50
    assert len(found(app, "", "open", 3)["messages"]) == 20 and found(app, "", "open", 99)["page"] == 3
    turing = found(app, "turing", show="open")
    assert turing["total"] == 60 and turing["counts"]["open"] == 60 and turing["counts"]["all"] == 60
    every = ids(found(app, "turing", "open", 1)) + ids(found(app, "turing", "open", 2))
    assert len(set(every)) == 60  # no message twice, none left out
    # Claimed ones leave "new" for "in progress" in the search's counts too.
    client, token = app.test_client(), bearer(token_of(app))
    for message_id in every[:5]:
        assert client.post(f"/agent/api/messages/{message_id}/claim", headers=token).status_code == 200
    counts = found(app, "turing", "open")["counts"]
    assert (counts["new"], counts["in_progress"], counts["mine"]) == (55, 5, 5)


def test_the_queue_page_says_what_was_searched_and_pages(app: Flask) -> None:
    for n in range(60):
        left(app, "+15550100001", f"question {n}", minutes_ago=100 - n)
    ann = login(app)
    first = ann.get("/agent/?q=lovelace").get_data(as_text=True)
    assert "60 messages match “lovelace” in open" in first and "page 1 of 2" in first and 'rel="next"' in first
    second = ann.get("/agent/?q=lovelace&page=2").get_data(as_text=True)
    assert 'rel="prev"' in second and 'rel="next"' not in second and second.count('data-label="Left"') == 10
    nothing = ann.get("/agent/?q=%25").get_data(as_text=True)
    assert "No messages match “%” in open." in nothing and "Search all messages" in nothing
    assert "(60 new) Queue" in first  # the title counts what waits, whatever the search


def test_a_message_left_by_a_call_is_found_by_its_caller(app: Flask) -> None:
    message_id = leave_message(app)  # +15550100001: Ada, by caller ID
    assert ids(found(app, "Ada Lovelace")) == [message_id]


def test_the_tab_shows_how_many_new_messages_wait(app: Flask) -> None:
    from urllib.parse import unquote

    ann = login(app)
    import re

    def icon() -> str:
        page = ann.get("/agent/").get_data(as_text=True)
        return unquote(re.search(r'rel="icon" href="data:image/svg\+xml,([^"]+)"', page).group(1))  # type: ignore[union-attr]

    assert "✉" in icon() and "#1f3a5f" in icon()
    for n in range(3):
        left(app, "+15550100001", f"hello {n}")
    assert ">3</text>" in icon() and "#cf222e" in icon()
