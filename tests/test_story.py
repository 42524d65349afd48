"""What agents read: the caller's way through the call in words, and errors as sentences."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict

from ivr.agents import callback, views
from ivr.agents.story import story
from ivr.db import get_db
from ivr.flows.inputs import DialOutcome
from ivr.models import Agent, Call, Message
from ivr.voice.webhooks import read_input
from tests.helpers import api_token, app, bearer, leave_message, login  # noqa: F401

__all__ = ["app"]


@pytest.mark.parametrize(
    ("path", "told"),
    [
        (["main_menu: agent", "transfer_to_agent: no-answer", "message_offer: leave_message", "message_record: recorded"],
         ["asked for a person at the main menu", "nobody answered", "chose to leave a message", "left a message"]),
        (["main_menu: order_status", "order_number: no_match", "order_number: no_match", "order_number: too_many_failures"],
         ["asked about an order", "was not understood at the order number (2 times)", "gave up at the order number"]),
        (["main_menu: account", "account_number: 10001", "pin_entry: ****", "pin_entry: no_input"],
         ["asked about their account", "entered the account number 10001", "entered the PIN", "said nothing at the PIN"]),
        (["faq_helpful: no", "faq_pick: opening_hours", "some_new_menu: some_option"],
         ["said the answer did not help", "chose “opening hours” at the answers offered",
          "chose “some option” at some new menu"]),
    ],
)  # fmt: skip
def test_the_callers_way_reads_as_what_they_did(path: list[str], told: list[str]) -> None:
    assert story(path) == told


def test_a_transfer_outcome_twilio_does_not_send_is_a_failed_transfer() -> None:
    assert read_input(MultiDict({"DialCallStatus": "no-answer"})) == DialOutcome("no-answer")
    assert read_input(MultiDict({"DialCallStatus": "hello?"})) == DialOutcome("failed")


def test_the_message_page_says_what_the_caller_did_without_the_flows_names(app: Flask) -> None:
    message_id = leave_message(app, "message_after_failures.yaml")
    page = login(app).get(f"/agent/messages/{message_id}").get_data(as_text=True)
    assert "Was not understood at the order number" in page and "(at the order number)" in page
    for jargon in ("order_number", "no_match", "too_many_failures", "main_menu"):
        assert jargon not in page, jargon


def test_the_click_to_call_hint_names_only_what_is_missing() -> None:
    ann = Agent(name="ann", phone="+15550100777", password_hash="x")
    everything = {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "PHONE_NUMBER": "+15550100000"}
    assert callback.missing(everything, ann) is None
    no_sid = callback.missing({**everything, "TWILIO_ACCOUNT_SID": ""}, ann)
    assert no_sid is not None and "sets IVR_TWILIO_ACCOUNT_SID." in no_sid and "AUTH_TOKEN" not in no_sid
    two = callback.missing({**everything, "TWILIO_ACCOUNT_SID": "", "PHONE_NUMBER": ""}, ann)
    assert two is not None and "IVR_TWILIO_ACCOUNT_SID and IVR_PHONE_NUMBER." in two
    no_phone = callback.missing(everything, Agent(name="bob", phone="", password_hash="x"))
    assert no_phone is not None and "bob has no phone number" in no_phone and "IVR_" not in no_phone


def test_the_message_page_shows_the_callers_earlier_calls_and_messages(app: Flask) -> None:
    from ivr.simulator.scenario import load, run
    from ivr.simulator.transport import FlaskTransport
    from tests.conftest import TOKEN
    from tests.helpers import SCENARIOS

    first = leave_message(app)  # Ada, +15550100001
    outcome = run(load(SCENARIOS / "order_status_keypad.yaml"), FlaskTransport(app, TOKEN))  # a call, no message
    assert outcome.ok, outcome.report()
    second = leave_message(app)
    other = leave_message(app, "message_after_failures.yaml")  # Grace: not Ada's
    third = leave_message(app)
    # The messages are dated by their scenario's clock (24 November); the call by the real one. All
    # from the last hour, on any day the test runs:
    with app.app_context(), get_db().transaction() as session:
        for minutes, message_id in enumerate((third, other, second, first)):
            session.get(Message, message_id).created_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
    page = login(app).get(f"/agent/messages/{third}").get_data(as_text=True)
    assert "Their third message in a week, after" in page and "other call" in page
    assert f'href="/agent/messages/{first}"' in page and f'href="/agent/messages/{second}"' in page
    assert f'href="/agent/messages/{other}"' not in page
    assert "asked about an order" in page and "found what they needed" in page
    earlier = (
        app.test_client().get(f"/agent/api/messages/{third}", headers=bearer(api_token(app))).get_json()["earlier"]
    )
    kinds = [(e["kind"], e["message_id"]) for e in earlier]
    assert ("message", first) in kinds and ("message", second) in kinds and ("call", None) in kinds
    assert all(e["message_id"] != third for e in earlier)
    grace = login(app).get(f"/agent/messages/{other}").get_data(as_text=True)
    assert "No earlier calls or messages from them." in grace


def test_before_this_is_measured_from_when_the_message_was_left(app: Flask) -> None:
    """Contacts before the message, the newest ten and how many more; those after it apart, as "since
    then"; the week's counts are the week before the message, not before today."""
    from tests.helpers import left

    caller, day = "+15550199999", 24 * 60
    message = left(app, caller, minutes_ago=3 * day)  # three days ago
    before = [left(app, caller, minutes_ago=3 * day + 60 * k) for k in range(1, 13)]  # 12 messages before it
    after = [left(app, caller, minutes_ago=3 * day - 60 * k) for k in range(1, 5)]  # 4 since
    now = dt.datetime.now(dt.UTC)
    with app.app_context(), get_db().transaction() as session:
        for minutes, outcome in ((3 * day + 30, "hung_up"), (3 * day + 90, "helped"), (3 * day + 150, "gave_up"),
                                 (11 * day, "hung_up"), (3 * day - 30, "helped"), (60, "hung_up")):  # fmt: skip
            session.add(Call(call_sid="CA" + secrets.token_hex(16), from_number=caller, to_number="+15550100000",
                             node="call_over", started_at=now - dt.timedelta(minutes=minutes), outcome=outcome,
                             events=[]))  # fmt: skip
    page = login(app).get(f"/agent/messages/{message}").get_data(as_text=True)
    listed = page.split('id="before"')[1].split('id="since"')[0]
    since = page.split('id="since"')[1].split("What they did")[0]
    assert "Their 13th message in a week, after" in page and "3 other calls in the week before it" in page
    assert listed.count("<li>") == 10 and "and 6 more before" in listed  # 12 messages and 4 calls before
    assert all(f'/agent/messages/{m}"' not in listed for m in after)
    assert since.count("<li>") == 6 and "more since" not in since  # 4 messages and 2 calls since
    assert all(f'/agent/messages/{m}"' in since for m in after)
    every = login(app).get(f"/agent/messages/{message}?contacts=all").get_data(as_text=True)
    assert every.split('id="before"')[1].split('id="since"')[0].count("<li>") == 16
    assert all(f'/agent/messages/{m}"' in every for m in before)
    api = app.test_client().get(f"/agent/api/messages/{message}", headers=bearer(api_token(app))).get_json()
    left_at = dt.datetime.fromisoformat(api["created_at"])
    assert len(api["earlier"]) == 10 and api["more_earlier"] == 6 and len(api["since"]) == 6 and api["more_since"] == 0
    assert all(dt.datetime.fromisoformat(c["at"]) < left_at for c in api["earlier"])
    assert all(dt.datetime.fromisoformat(c["at"]) >= left_at for c in api["since"])
    newest_first = [c["at"] for c in api["earlier"]]
    assert newest_first == sorted(newest_first, reverse=True)


def test_times_read_as_the_team_reads_the_clock(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from zoneinfo import ZoneInfo

    when = app.jinja_env.filters["when"]
    zone = ZoneInfo(app.config["TIMEZONE"])
    now = dt.datetime(2026, 11, 25, 3, 30, tzinfo=dt.UTC)  # 22:30 the evening before, in New York
    monkeypatch.setattr(views, "now", lambda: now)
    with app.app_context():
        local = now.astimezone(zone)
        assert when(now) == f"today {local:%H:%M}"
        assert when(now - dt.timedelta(days=1)) == f"yesterday {(now - dt.timedelta(days=1)).astimezone(zone):%H:%M}"
        old = (now - dt.timedelta(days=9)).astimezone(zone)
        assert when(old) == f"{old:%a} {old.day} {old:%b}, {old:%H:%M}"
        assert when(now.replace(tzinfo=None)) == f"today {local:%H:%M}"  # SQLite's naive UTC
        assert when(now, True) == f"today {local:%H:%M} {local.tzname()}"
    reply = app.test_client().get(f"/agent/api/messages/{leave_message(app)}", headers=bearer(api_token(app)))
    assert reply.get_json()["created_at"].endswith("+00:00")
