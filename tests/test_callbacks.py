"""'Call me back' (ivr/flows/callback.py, ivr/messages/callbacks.py): which numbers the team may
call, the times offered, the request in the queue, due callbacks first, a result recorded and a retry
scheduled, and the insights' counts. The calls themselves are scenarios: tests/scenarios/*callback*.yaml."""

from __future__ import annotations

import datetime as dt
import json
import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from ivr import create_app
from ivr.agents import queue, views
from ivr.db import get_db, upgrade
from ivr.flows import callback as flow
from ivr.flows.context import Context
from ivr.flows.state import CallState
from ivr.hours import OpeningHours
from ivr.insights import figures
from ivr.messages import callbacks
from ivr.models import Agent, Message, MessageHistory, as_utc
from ivr.seed import load_demo_line
from ivr.simulator.scenario import load, run
from ivr.simulator.transport import FlaskTransport
from tests.conftest import TOKEN
from tests.helpers import (
    CHROMIUM,
    OUTPUT,
    PASSWORD,
    api_token,
    app,
    bearer,
    browser_page,
    csrf,
    left,
    login,
    message,
    no_sideways_scroll,
    postgres_url,
    serious_problems,
    site,
    team,
    work,
)

__all__ = ["app", "postgres_url", "site", "team"]

SCENARIO = Path(__file__).parent / "scenarios" / "callback_instead_of_waiting.yaml"
LINE = {"TIMEZONE": "America/New_York", "OPENING_HOURS": "mon-fri 09:00-17:00; sat 10:00-14:00",
        "HOLIDAYS": "01-01, 07-04, 12-25"}  # fmt: skip
HOURS = OpeningHours.from_settings(LINE)
EST = dt.timezone(dt.timedelta(hours=-5))


def at(text: str) -> dt.datetime:
    """A moment on the line's clock in November ("2026-11-24 10:30"), in UTC."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=EST).astimezone(dt.UTC)


@pytest.mark.parametrize(
    ("typed", "caller", "line", "number"),
    [
        ("2125550147", "+15550100001", "+15550100000", "+12125550147"),  # the line's country, with the area code
        ("12125550147", "+15550100001", "+15550100000", "+12125550147"),  # with the country's 1 first
        ("0401234567", "+358401234500", "+15550100000", "+358401234567"),  # the caller's own country
        ("123456", "+15550100001", "+15550100000", None),  # not a phone number
        ("5550100001", "+15550100001", "+15550100000", None),  # not a number anyone has (555 is fictional)
        ("19005550123", "+15550100001", "+15550100000", None),  # premium rate: the line would pay for it
        ("00442079460000", "+15550100001", "+15550100000", None),  # another country: not the team's to call
        ("0114420794600", "+15550100001", "+15550100000", None),  # the US way abroad, to a country not theirs
        ("٢١٢٥٥٥٠١٤٧", "+15550100001", "+15550100000", None),  # digits, but not ASCII keys
    ],
)
def test_which_typed_numbers_the_team_may_call(typed: str, caller: str, line: str, number: str | None) -> None:
    assert callbacks.typed_number(typed, caller, {"PHONE_NUMBER": line}) == number


@pytest.mark.parametrize(
    ("caller", "number"),
    [
        ("+15550100001", "+15550100001"),
        ("+266696687", None),
        ("+7378742833", None),
        ("+86282452253", None),
        ("+2562533", None),
        ("anonymous", None),
        ("client:ann", None),
        ("", None),
    ],  # fmt: skip
)
def test_the_number_a_caller_calls_from_when_it_is_one(caller: str, number: str | None) -> None:
    assert callbacks.caller_number(caller) == number


@pytest.mark.parametrize(
    ("now", "offered"),
    [
        ("2026-11-24 10:30", ["Tue 11:00", "Tue 12:00", "Tue 13:00"]),  # open: the next whole hours
        ("2026-11-24 10:29", ["Tue 11:00", "Tue 12:00", "Tue 13:00"]),
        ("2026-11-24 10:31", ["Tue 12:00", "Tue 13:00", "Tue 14:00"]),  # at least half an hour ahead
        ("2026-11-24 16:10", ["Wed 09:00", "Wed 10:00", "Wed 11:00"]),  # nothing left today
        ("2026-11-24 19:30", ["Wed 09:00", "Wed 10:00", "Wed 11:00"]),  # closed: the opening first
        ("2026-11-28 13:00", ["Mon 09:00", "Mon 10:00", "Mon 11:00"]),  # Saturday closes at 2 PM
        ("2026-12-24 16:00", ["Sat 10:00", "Sat 11:00", "Sat 12:00"]),  # Christmas Day is a holiday
    ],
)
def test_the_times_offered_are_in_opening_hours(now: str, offered: list[str]) -> None:
    assert [s.strftime("%a %H:%M") for s in callbacks.slots(HOURS, at(now))] == offered


def test_no_times_when_the_line_opens_at_no_time_in_two_weeks() -> None:
    assert callbacks.slots(OpeningHours.from_settings({**LINE, "OPENING_HOURS": ""}), at("2026-11-24 10:30")) == []


@pytest.mark.parametrize(
    ("chosen", "now", "why"),
    [
        ("2026-11-24T20:00:00-05:00", "2026-11-24 10:30", "outside opening hours"),  # the evening
        ("2026-11-29T11:00:00-05:00", "2026-11-24 10:30", "outside opening hours"),  # a Sunday
        ("2026-12-25T10:00:00-05:00", "2026-11-24 10:30", "outside opening hours"),  # a holiday
        ("now", "2026-11-24 19:30", "not working now"),  # "as soon as someone is free", out of hours
        ("tomorrow", "2026-11-24 10:30", "is not a time"),
    ],
)
def test_a_time_outside_opening_hours_is_refused(chosen: str, now: str, why: str) -> None:
    with pytest.raises(callbacks.CallbackError, match=why):
        callbacks.when_due(HOURS, at(now), chosen)


def test_a_time_in_opening_hours_is_when_the_callback_is_due() -> None:
    assert callbacks.when_due(HOURS, at("2026-11-24 10:30"), "now") == at("2026-11-24 10:30")
    assert callbacks.when_due(HOURS, at("2026-11-24 10:30"), "2026-11-25T10:00") == at("2026-11-25 10:00")
    # A time chosen a minute before it came: due at once, not in the past.
    assert callbacks.when_due(HOURS, at("2026-11-24 11:01"), "2026-11-24T11:00:00-05:00") == at("2026-11-24 11:01")


def _context(app: Flask, settings: dict[str, object], now: str) -> Context:
    context = Context(settings={**app.config, **settings}, hours=OpeningHours.from_settings({**LINE, **settings}),
                      catalog=app.extensions["ivr.catalog"])  # fmt: skip
    context.__dict__["now"] = at(now)  # the step's clock
    return context


def test_a_time_that_closed_since_it_was_offered_is_offered_again(app: Flask) -> None:
    """The hours changed (a holiday added) between the times being said and the caller choosing."""
    state = CallState(node="callback_book", collected={"callback_chosen": "2026-11-25T10:00:00-05:00",
                                                       "callback_to": "+15550100001"})  # fmt: skip
    goto = flow.callback_book(state, _context(app, {"HOLIDAYS": "2026-11-25"}, "2026-11-24 10:30"))
    assert goto.next == "callback_when" and [s.prompt for s in goto.say] == ["callback_time_gone"]


def test_with_no_time_to_offer_the_caller_leaves_a_message(app: Flask) -> None:
    state = CallState(node="callback_when", collected={"callback_to": "+15550100001"})
    goto = flow.callback_when(state, _context(app, {"OPENING_HOURS": ""}, "2026-11-24 10:30"))
    assert goto.next == "message_start" and [s.prompt for s in goto.say] == ["callback_no_times"]


# ---- the requests in the desk's queue ------------------------------------------------------------------


def _play(app: Flask) -> list[Message]:
    """The scenario's callers ask for three callbacks: the requests, in the order asked."""
    outcome = run(load(SCENARIO), FlaskTransport(app, TOKEN))
    assert outcome.ok, outcome.report()
    with app.app_context(), get_db().reading() as session:
        found = list(session.scalars(select(Message).where(Message.channel == "callback").order_by(Message.id)))
        session.expunge_all()
    return found


def test_each_request_lands_in_the_queue_with_the_number_the_time_and_the_path(app: Flask) -> None:
    soon, chosen, typed = _play(app)
    assert (soon.callback_to, as_utc(soon.callback_at), soon.reason, soon.branch) == (
        "+15550100001", at("2026-11-24 10:30"), "no_agent", "transfer_to_agent")  # fmt: skip
    assert (chosen.callback_to, as_utc(chosen.callback_at), chosen.reason, chosen.branch) == (
        "+12125550147", at("2026-11-25 10:00"), "out_of_hours", "agent_hours")  # fmt: skip
    assert (typed.callback_to, typed.caller, as_utc(typed.callback_at), typed.reason) == (
        "+16175550124", "+266696687", at("2026-11-24 15:00"), "callback_choice")  # fmt: skip
    for request in (soon, chosen, typed):
        assert request.status == "new" and request.audio_status == "none" and request.callback_tries == 0
        assert as_utc(request.callback_due_at) == as_utc(request.callback_at) and request.path
    # The call that refused two numbers and left for a message asked for no callback.
    with app.app_context(), get_db().reading() as session:
        assert session.scalar(select(MessageHistory.detail).where(MessageHistory.message_id == chosen.id)) == (
            "call +12125550147 Wed 25 Nov 10:00 EST"
        )
    # The API says it as the desk shows it.
    client = app.test_client()
    data = client.get(f"/agent/api/messages/{chosen.id}", headers=bearer(api_token(app))).get_json()
    assert data["callback"] == {"number": "+12125550147", "at": "2026-11-25T15:00:00+00:00",
                                "due_at": "2026-11-25T15:00:00+00:00", "tries": 0, "result": None, "on_time": None}  # fmt: skip


def _rows(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr class="[^"]*" data-id="(\d+)"', page)]


def test_callbacks_due_come_first_then_a_result_then_a_retry(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    soon, chosen, typed = _play(app)
    voice = left(app, "+15550100002", "my parcel")
    with app.app_context(), get_db().transaction() as session:  # left days before any of them
        session.execute(update(Message).where(Message.id == voice).values(created_at=at("2026-11-20 09:00")))
    clock = [at("2026-11-24 15:30")]
    monkeypatch.setattr(views, "now", lambda: clock[0])
    agent = login(app)

    # Due now: the one asked for at 10:30, then the one for 3 PM. Then the rest, oldest first.
    page = agent.get("/agent/").get_data(as_text=True)
    assert _rows(page) == [soon.id, typed.id, voice, chosen.id]
    assert "2 callbacks due" in page and page.count('class="status-new callback-due"') == 2

    def record(message_id: int, result: str, again: str = "") -> str:
        form = {"result": result, "again": again, "csrf_token": csrf(agent, f"/agent/messages/{message_id}")}
        reply = agent.post(f"/agent/messages/{message_id}/callback", data=form, follow_redirects=True)
        assert reply.status_code == 200
        return reply.get_data(as_text=True)

    # Nobody answered: tried again in an hour (in opening hours), back in the queue for anyone.
    assert "Recorded: no answer; the next call is due today 16:30 EST." in record(soon.id, "no_answer")
    again = message(app, soon.id)
    assert (again.status, again.assignee_id, again.callback_tries, again.callback_result) == (
        "new",
        None,
        1,
        "no_answer",
    )
    assert as_utc(again.callback_due_at) == at("2026-11-24 16:30")
    # Reached (half an hour after the time chosen: on time): done, by the agent who called.
    assert "Recorded: reached; closed." in record(typed.id, "reached")
    assert message(app, typed.id).status == "done" and message(app, typed.id).callback_result == "reached"

    assert _rows(agent.get("/agent/").get_data(as_text=True))[:3] == [voice, soon.id, chosen.id]  # none due till 4:30
    clock[0] = at("2026-11-24 16:31")
    assert _rows(agent.get("/agent/").get_data(as_text=True))[0] == soon.id
    # Not answered the second time either: closed, nothing more to try.
    assert "Recorded: no answer; closed." in record(soon.id, "no_answer")
    with app.app_context(), get_db().reading() as session:
        said = session.scalars(select(MessageHistory.detail).where(MessageHistory.message_id == soon.id,
                                                                   MessageHistory.action == "callback"))  # fmt: skip
        assert list(said) == ["no answer; tried again Tue 24 Nov 16:30 EST", "no answer again; closed"]
    closed = message(app, soon.id)
    assert (closed.status, closed.callback_due_at, closed.callback_tries) == ("done", None, 2)

    # A retry at a time the agent chose: outside opening hours it is refused and nothing changes.
    page = record(chosen.id, "no_answer", "2026-11-25T20:00")
    assert "That time is outside opening hours" in page
    assert message(app, chosen.id).callback_tries == 0 and message(app, chosen.id).status == "new"
    assert "is not a result" in record(chosen.id, "maybe")
    assert "Recorded: no answer; the next call is due Wed 25 Nov, 11:00 EST." in record(chosen.id, "no_answer",
                                                                                    "2026-11-25T11:00")  # fmt: skip
    # Through the API: a result that is not one is a 400; a wrong number closes it.
    client, token = app.test_client(), api_token(app)
    reply = client.post(f"/agent/api/messages/{chosen.id}/callback", json={"result": "later"}, headers=bearer(token))
    assert reply.status_code == 400 and "is not a result" in reply.get_json()["error"]
    reply = client.post(f"/agent/api/messages/{chosen.id}/callback", json={"result": "wrong_number"},
                        headers=bearer(token))  # fmt: skip
    assert reply.status_code == 200 and reply.get_json()["callback"]["result"] == "wrong_number"
    assert reply.get_json()["status"] == "done"
    reply = client.post(f"/agent/api/messages/{voice}/callback", json={"result": "reached"}, headers=bearer(token))
    assert reply.status_code == 400 and "not a callback request" in reply.get_json()["error"]

    # The insights: three asked for and called; on time the one for 3 PM and the one for tomorrow (called
    # early), not the one asked for at 10:30 (called five hours later); one reached.
    with app.app_context(), get_db().reading() as session:
        seen = figures.figures(session, app.config, dt.date(2026, 11, 24), dt.date(2026, 11, 25))
    assert figures.as_json(seen)["callbacks"] == {"requested": 3, "called": 3, "on_time": 2, "reached": 1}


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: apt-get install chromium (make test does it)")
@pytest.mark.parametrize("width", [390, 1280])
def test_an_agent_sees_callbacks_due_first_and_records_a_call_in_a_browser(
    site: tuple[Flask, str], width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The queue and a callback's page on a phone and a desk: due first, the number to call, the
    result recorded, no sideways scrolling, no serious accessibility problem; screenshots."""
    from playwright.sync_api import expect

    app, base = site
    outcome = run(load(SCENARIO), FlaskTransport(app, TOKEN))
    assert outcome.ok, outcome.report()
    left(app, "+15550100002", "my parcel never came")
    monkeypatch.setattr(views, "now", lambda: at("2026-11-24 15:30"))
    with browser_page(width) as page:
        page.goto(base + "/agent/login")
        page.get_by_label("Name").fill("ann")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("[data-live=counts]")).to_contain_text("2 callbacks due")
        first = page.locator("table.queue tbody tr").first
        expect(first).to_have_class(re.compile("callback-due"))
        expect(first).to_contain_text("Call back (555) 010-0001")
        no_sideways_scroll(page)

        assert serious_problems(page) == []
        page.screenshot(path=str(OUTPUT / f"callbacks-queue-{width}.png"), full_page=True)

        first.get_by_role("link").first.click()
        expect(page.get_by_role("heading", name="Call them back")).to_be_visible()
        expect(page.locator("section.callback")).to_contain_text("Due now")
        expect(page.get_by_role("link", name="(555) 010-0001").first).to_have_attribute("href", "tel:+15550100001")
        no_sideways_scroll(page)

        assert serious_problems(page) == []
        page.screenshot(path=str(OUTPUT / f"callbacks-message-{width}.png"), full_page=True)
        page.get_by_role("radio", name="No answer").check()
        page.get_by_role("button", name="Record the call").click()
        expect(page.locator(".flash")).to_contain_text("Recorded: no answer; the next call is due today 16:30 EST.")
        expect(page.locator("section.callback")).to_contain_text("the next call after 1 without an answer")
        page.screenshot(path=str(OUTPUT / f"callbacks-retry-{width}.png"), full_page=True)


def test_the_team_is_told_of_each_callback_by_mail_and_webhook(team) -> None:  # type: ignore[no-untyped-def]
    app, inbox, receiver = team
    outcome = run(load(SCENARIO), FlaskTransport(app, TOKEN))
    assert outcome.ok, outcome.report()
    work(app, 61)
    mails = [message_from_bytes(raw, policy=policy.default) for raw in inbox.mails]
    assert sorted(m["Subject"].strip() for m in mails) == [
        "Callback requested by Ada Lovelace (+15550100001): no agent answered",
        "Callback requested by Ada Lovelace (+15550100001): out of hours",
        "Callback requested by an unknown caller (number hidden): asked to be called back",
    ]
    bodies = "\n".join(m.get_content() for m in mails)
    assert "Ada Lovelace asked to be called back on +15550100001, as soon as someone is free" in bodies
    assert "Ada Lovelace asked to be called back on +12125550147, at Wed 25 Nov 10:00 EST (out of hours)" in bodies
    said = sorted((json.loads(body) for _headers, body in receiver.got), key=lambda s: s["message_id"])
    assert [s["event"] for s in said] == ["callback.requested"] * 3
    assert [s["callback"] for s in said] == [
        {"number": "+15550100001", "at": None},
        {"number": "+12125550147", "at": "2026-11-25T15:00:00+00:00"},
        {"number": "+16175550124", "at": "2026-11-24T20:00:00+00:00"},
    ]


def test_on_postgresql_the_requests_and_their_counts_are_the_same(postgres_url: str) -> None:
    upgrade(postgres_url)
    app = create_app({"DATABASE_URL": postgres_url, "TWILIO_AUTH_TOKEN": TOKEN, "SURVEY_SHARE": 0})
    try:
        with app.app_context(), get_db().transaction() as session:
            load_demo_line(session)
        soon, _chosen, typed = _play(app)
        assert as_utc(typed.callback_at) == at("2026-11-24 15:00") and typed.callback_to == "+16175550124"
        line = (app.config, app.extensions["ivr.hours"])
        with app.app_context(), get_db().transaction() as session:
            agent = Agent(name="ann", password_hash="x")
            session.add(agent)
            session.flush()
            queue.callback_result(session, soon.id, agent, "no_answer", line, now=at("2026-11-24 15:30"))
            queue.callback_result(session, typed.id, agent, "reached", line, now=at("2026-11-24 15:30"))
        with app.app_context(), get_db().reading() as session:
            seen = figures.figures(session, app.config, dt.date(2026, 11, 24), dt.date(2026, 11, 25))
            assert as_utc(session.get(Message, soon.id).callback_due_at) == at("2026-11-24 16:30")
        assert figures.as_json(seen)["callbacks"] == {"requested": 3, "called": 2, "on_time": 1, "reached": 1}
    finally:
        app.extensions["ivr.db"].engine.dispose()


def test_a_result_or_a_time_of_any_length_is_refused_in_a_sentence(app: Flask) -> None:
    """What an agent's browser (or a script) sends in a result's place: refused, said briefly, nothing changed."""
    [soon, *_rest] = _play(app)
    agent = login(app)
    token = csrf(agent, f"/agent/messages/{soon.id}")
    for result, again in (("x" * 100_000, ""), ("no_answer", "9" * 100_000), ("no_answer", "2026-11-25T25:00")):
        reply = agent.post(f"/agent/messages/{soon.id}/callback",
                           data={"result": result, "again": again, "csrf_token": token}, follow_redirects=True)  # fmt: skip
        page = reply.get_data(as_text=True)
        assert reply.status_code == 200 and ("is not a result" in page or "is not a time" in page)
        assert len(reply.request.headers.get("Cookie", "")) < 4096  # the flash stays small
    assert message(app, soon.id).callback_tries == 0 and message(app, soon.id).status == "new"
