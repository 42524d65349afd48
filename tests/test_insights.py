"""The insights' figures from real calls: calls with known outcomes made through the simulator, rolled up
by the worker, and every figure checked in figures() and in GET /agent/api/insights."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

from flask import Flask
from sqlalchemy import select, update

from ivr.db import get_db, upgrade
from ivr.insights import figures as insights
from ivr.insights import rollup
from ivr.insights.figures import AgentLoad, Asked, Day, Messages, Prompt
from ivr.models import Call, LineVersion, Message, MessageHistory, as_utc
from ivr.worker import Worker
from tests.conftest import TOKEN
from tests.helpers import (
    CLOSED,
    END,
    MORNING,
    START,
    api_token,
    app,
    bearer,
    close_message,
    dial,
    make_calls,
    postgres_url,
    set_times,
    supervisor,
)

__all__ = ["app", "postgres_url"]

# The one answer a caller said did not help ("how long does shipping take", then "no").
WEB_ANSWERS = [
    {"slug": "delivery_times", "language": "en-US", "web_yes": 0, "web_no": 0, "phone_yes": 0, "phone_no": 1}
]

EXPECTED_PROMPTS = (
    # node, reached, went on, hung up, to a person, not understood, voice, voice not understood
    Prompt("main_menu", 9, 5, 1, 2, 2, 2, 1),
    Prompt("faq_again", 3, 0, 3, 0, 0, 0, 0),
    Prompt("faq_ask", 3, 3, 0, 0, 0, 3, 0),
    Prompt("order_number", 2, 1, 1, 0, 1, 1, 1),
    Prompt("callback_offer", 1, 1, 0, 0, 0, 0, 0),
    Prompt("faq_helpful", 1, 1, 0, 0, 0, 1, 0),
    Prompt("message_retry", 1, 1, 0, 0, 0, 0, 0),  # silence asked once, then the goodbye
    Prompt("message_review", 1, 1, 0, 0, 0, 1, 0),
    Prompt("order_result", 1, 0, 1, 0, 0, 0, 0),
)
EXPECTED_ASKED = (
    Asked("life mean", "what is the meaning of life", 2, 2, 0, "en-US", "phone", dt.date(2026, 11, 24)),
    Asked("how long ship take", "how long does shipping take", 1, 0, 1, "en-US", "phone", dt.date(2026, 11, 24)),
)
OPEN_HOURS = tuple(
    tuple((day < 5 and 9 <= hour < 17) or (day == 5 and 10 <= hour < 14) for hour in range(24)) for day in range(7)
)


def read(app: Flask) -> insights.Figures:
    with app.app_context(), get_db().reading() as session:
        return insights.figures(session, app.config, START, END)


def test_every_figure_from_calls_with_known_outcomes(app: Flask) -> None:
    calls = make_calls(app)
    set_times(app, calls)
    close_message(app)
    with app.app_context(), get_db().reading() as session:
        outcomes = dict(session.execute(select(Call.call_sid, Call.outcome)).all())
        assert all(session.scalars(select(Call.ended_at.is_not(None))))
    assert {name: outcomes[sid] for name, sid in calls.items()} == {
        "helped": "helped", "transferred": "transferred", "message": "message_left", "gave_up": "gave_up",
        "hung_up": "hung_up", "misheard": "hung_up", "not_found": "hung_up", "not_helped": "hung_up",
        "not_found_again": "hung_up",
    }  # fmt: skip
    assert read(app).calls == 0  # nothing until the worker has rolled the calls up

    with app.app_context():
        Worker(get_db(), app.config, threads=1).run_once()
    found = read(app)
    assert found.start == START and found.end == END
    assert found.calls == 9
    assert found.outcomes == {"helped": 1, "transferred": 1, "message": 1, "gave_up": 1, "hung_up": 5}
    assert found.containment == 1 / 9
    # The call at 23:30 in New York counts on the 24th, in its 23rd hour.
    assert found.days == (Day(START, 0, 0), Day(dt.date(2026, 11, 24), 9, 1), Day(END, 0, 0))
    assert found.prompts == EXPECTED_PROMPTS
    assert found.asked == EXPECTED_ASKED
    assert (found.steps, found.voice_steps) == (17, 8)
    hours = [[0] * 24 for _ in range(7)]
    hours[1][10], hours[1][23] = 8, 1  # Tuesday
    assert found.hours == tuple(tuple(row) for row in hours)
    assert found.open == OPEN_HOURS
    assert found.messages == Messages(
        received=2, closed=1, median_hours=2.5, p90_hours=2.5, oldest_open=MORNING + dt.timedelta(hours=1),
        per_agent=(AgentLoad("ann", 1, 2.5, 2.5),),
    )  # fmt: skip

    # Rolled up once: another pass (another worker) adds nothing.
    with app.app_context(), get_db().transaction() as session:
        assert rollup.roll_up(session, app.config, dt.datetime.now(dt.UTC) + dt.timedelta(days=1)) == 0
    assert read(app) == found

    # The same figures as JSON, for supervisors.
    supervisor(app)
    client = app.test_client()
    carol = bearer(api_token(app, "carol"))
    reply = client.get(f"/agent/api/insights?from={START}&to={END}", headers=carol)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    with app.app_context(), get_db().reading() as session:  # every call heard the one version of the line
        [heard] = session.scalars(select(LineVersion)).all()
        assert set(session.scalars(select(Call.version))) == {heard.id}
    assert reply.get_json() == {
        "from": "2026-11-23", "to": "2026-11-25", "calls": 9,
        "outcomes": {"helped": 1, "transferred": 1, "message": 1, "gave_up": 1, "hung_up": 5},
        "containment": 1 / 9,
        "called_again": 0,
        "helped_called_again": 0,
        "survey": {"asked": 0, "solved": 0, "not_solved": 0},  # no call here was asked (the share is 0)
        "callbacks": {"requested": 0, "called": 0, "on_time": 0, "reached": 0},  # none asked for here
        "experiments": [],  # none ran
        "versions": [{"version": heard.id, "language": "en-US", "first_heard": as_utc(heard.first_heard).isoformat(),
                      "calls": 9, "helped": 1, "survey": {"asked": 0, "solved": 0, "not_solved": 0}}],
        "days": [{"day": "2026-11-23", "calls": 0, "helped": 0, "helped_called_again": 0, "containment": 0.0},
                 {"day": "2026-11-24", "calls": 9, "helped": 1, "helped_called_again": 0, "containment": 1 / 9},
                 {"day": "2026-11-25", "calls": 0, "helped": 0, "helped_called_again": 0, "containment": 0.0}],
        "drop_off": [{"node": p.node, "reached": p.reached, "went_on": p.went_on, "hung_up": p.hung_up,
                      "to_person": p.to_person, "not_understood": p.not_understood} for p in EXPECTED_PROMPTS],
        "unanswered": [
            {"words": "life mean", "sample": "what is the meaning of life", "asked": 2, "not_found": 2, "not_helped": 0,
             "language": "en-US", "channel": "phone"},
            {"words": "how long ship take", "sample": "how long does shipping take", "asked": 1, "not_found": 0,
             "not_helped": 1, "language": "en-US", "channel": "phone"},
        ],
        # No one visited the help centre; the phone's "did that answer your question?" per answer.
        "web": {"searches": 0, "answered": 0, "options": 0, "none": 0, "reads": 0, "helpful": 0, "not_helpful": 0,
                "reasons": {}, "messages": 0, "answers": WEB_ANSWERS},
        "messages": {"received": 2, "closed": 1, "median_hours": 2.5, "p90_hours": 2.5,
                     "oldest_open": "2026-11-24T16:00:00+00:00",
                     "per_agent": [{"agent": "ann", "closed": 1, "median_hours": 2.5, "p90_hours": 2.5}]},
        "speech": {"voice_share": 8 / 17, "steps": 17, "voice_steps": 8,
                   "prompts": [{"node": "faq_ask", "voice": 3, "voice_missed": 0},
                               {"node": "main_menu", "voice": 2, "voice_missed": 1},
                               {"node": "faq_helpful", "voice": 1, "voice_missed": 0},
                               {"node": "message_review", "voice": 1, "voice_missed": 0},
                               {"node": "order_number", "voice": 1, "voice_missed": 1}]},
        "hours": hours,
        "open": [list(row) for row in OPEN_HOURS],
    }  # fmt: skip


def test_a_call_twilio_never_reported_counts_after_an_hour_of_silence(app: Flask) -> None:
    call = dial(app, CLOSED)
    call.press("2")  # then nothing more: no status callback
    now = dt.datetime.now(dt.UTC)
    with app.app_context(), get_db().transaction() as session:
        assert rollup.roll_up(session, app.config, now) == 0
    with app.app_context(), get_db().transaction() as session:
        assert rollup.roll_up(session, app.config, now + dt.timedelta(minutes=61)) == 1
    with app.app_context(), get_db().reading() as session:
        today = rollup.OpeningHours.from_settings(app.config).local(now).date()
        found = insights.figures(session, app.config, today, today)
    assert found.calls == 1 and found.outcomes["hung_up"] == 1
    assert [(p.node, p.reached, p.went_on, p.hung_up) for p in found.prompts] == [
        ("main_menu", 1, 1, 0),
        ("order_number", 1, 0, 1),
    ]


def test_the_api_is_for_supervisors_and_checks_the_period(app: Flask) -> None:
    client = app.test_client()
    refused = client.get("/agent/api/insights", headers=bearer(api_token(app)))
    assert refused.status_code == 403 and refused.get_json() == {"error": "the insights are for supervisors"}
    supervisor(app)
    carol = bearer(api_token(app, "carol"))
    today = rollup.OpeningHours.from_settings(app.config).local(dt.datetime.now(dt.UTC)).date()
    default = client.get("/agent/api/insights", headers=carol).get_json()
    assert (default["from"], default["to"]) == ((today - dt.timedelta(days=29)).isoformat(), today.isoformat())
    assert len(default["days"]) == 30 and default["calls"] == 0 and default["messages"]["median_hours"] is None
    for query, said in (
        ("from=2026-11-31&to=2026-12-01", "“From” is not a date"),
        ("from=yesterday&to=2026-12-01", "“From” is not a date"),
        ("from=2026-11-01&to=2026-1-1", "“To” is not a date"),
        ("from=2026-12-01&to=2026-11-01", "“From” is after “to”"),
        ("from=2025-01-01&to=2026-01-02", "at most 366 days"),
        ("from=2026-11-01", "needs both dates"),
    ):
        reply = client.get(f"/agent/api/insights?{query}", headers=carol)
        assert reply.status_code == 400 and said in reply.get_json()["error"], (query, reply.get_json())
    year = client.get("/agent/api/insights?from=2024-01-01&to=2024-12-31", headers=carol)
    assert year.status_code == 200 and len(year.get_json()["days"]) == 366


def test_questions_share_a_group_whatever_the_order_of_their_words() -> None:
    assert rollup.question_key("where's my refund") == rollup.question_key("refund where is it") == "refund where"
    words = "one two three four five six seven eight nine ten"
    assert rollup.question_key(words) == " ".join(sorted(words.split())[:8])


def test_percentiles() -> None:
    assert insights._median([]) is None and insights._p90([]) is None
    hours = [float(n) for n in range(1, 11)]  # 1..10
    assert insights._median(hours) == 5.5 and insights._p90(hours) == 9.0
    assert insights._p90([4.0]) == 4.0


def test_the_migration_adds_and_removes_the_aggregates(tmp_path: Path) -> None:
    from alembic import command

    from ivr.db import alembic_config

    path = tmp_path / "m.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url, "0015")
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO calls (call_sid, from_number, to_number, language, node, step, retries, collected,"
                   " last_twiml, started_at, updated_at, events) VALUES ('CA1', '', '', 'en-US', 'main_menu', 1, 0,"
                   " '{}', '', '2026-11-24 10:00:00', '2026-11-24 10:00:00', '[]')")  # fmt: skip
    upgrade(url, "0016")
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT summarised FROM calls").fetchall() == [(0,)]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"insight_days", "insight_hours", "insight_prompts", "insight_asked"} <= tables
        indexes = {row[1] for row in db.execute("PRAGMA index_list(calls)")}
        assert "ix_calls_summarised_updated" in indexes
    command.downgrade(alembic_config(url), "0015")
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert not tables & {"insight_days", "insight_hours", "insight_prompts", "insight_asked"}
        assert "summarised" not in {row[1] for row in db.execute("PRAGMA table_info(calls)")}
        assert db.execute("SELECT call_sid FROM calls").fetchall() == [("CA1",)]


def test_the_aggregates_on_postgresql(postgres_url: str) -> None:
    """The upserts add to the rows already there on PostgreSQL too, and a call is counted once."""
    from ivr import create_app
    from ivr.seed import load_demo_data

    upgrade(postgres_url)
    app = create_app({"DATABASE_URL": postgres_url, "TWILIO_AUTH_TOKEN": TOKEN})
    assert app.extensions["ivr.db"].is_postgresql
    with app.app_context(), get_db().transaction() as session:
        load_demo_data(session)
    try:
        first = dial(app, CLOSED)
        first.press("2")
        first.press("5001#")
        first.hangup()
        with app.app_context():
            assert Worker(get_db(), app.config, threads=1).summarise_calls(dt.datetime.now(dt.UTC)) == 1
        second = dial(app, CLOSED)
        second.say("order status", confidence=0.1)
        second.hangup()
        # Two workers at once: the second waits for the first's claim, then finds the call taken.
        now, second_worker = dt.datetime.now(dt.UTC), []
        with app.app_context(), get_db().transaction() as session:
            assert rollup.roll_up(session, app.config, now) == 1

            def other_worker() -> None:
                with app.app_context(), get_db().transaction() as other:
                    second_worker.append(rollup.roll_up(other, app.config, now))

            racing = threading.Thread(target=other_worker)
            racing.start()
            racing.join(0.5)
            assert racing.is_alive()  # waiting on the row the first worker claimed
        racing.join(10)
        assert second_worker == [0]
        today = rollup.OpeningHours.from_settings(app.config).local(dt.datetime.now(dt.UTC)).date()
        with app.app_context(), get_db().reading() as session:
            found = insights.figures(session, app.config, today, today)
        assert found.calls == 2 and found.outcomes == {"helped": 1, "transferred": 0, "message": 0, "gave_up": 0,
                                                       "hung_up": 1}  # fmt: skip
        assert found.prompts[:2] == (
            Prompt("main_menu", 2, 1, 1, 0, 1, 1, 1),
            Prompt("order_number", 1, 1, 0, 0, 0, 0, 0),
        )
        assert (found.steps, found.voice_steps) == (3, 1)
        assert sum(map(sum, found.hours)) == 2
        # Hours to close, worked out by PostgreSQL.
        left = dt.datetime.combine(today, dt.time(12), dt.UTC) - dt.timedelta(hours=3)
        with app.app_context(), get_db().transaction() as session:
            message = Message(recording_sid="RE" + "1" * 32, call_sid=first.call_sid, recording_url="https://x",
                              created_at=left, status="done")  # fmt: skip
            session.add(message)
            session.flush()
            session.add(MessageHistory(message_id=message.id, action="done", at=left + dt.timedelta(hours=1.25)))
        with app.app_context(), get_db().reading() as session:
            closed = insights.figures(session, app.config, today - dt.timedelta(days=1), today).messages
        assert (closed.received, closed.closed, closed.median_hours, closed.p90_hours) == (1, 1, 1.25, 1.25)
        assert closed.per_agent == (AgentLoad("", 1, 1.25, 1.25),)
    finally:
        app.extensions["ivr.db"].engine.dispose()


def test_rollup_from_the_command_line_and_the_api_with_a_session(app: Flask) -> None:
    from tests.helpers import login

    for _ in range(2):
        dial(app, CLOSED).hangup()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["insights", "rollup"]).output == "2 calls summarised\n"
    assert runner.invoke(args=["insights", "rollup"]).output == "0 calls summarised\n"
    supervisor(app)
    reply = login(app, "carol").get("/agent/api/insights")
    assert reply.status_code == 200 and reply.get_json()["calls"] == 2
    assert reply.get_json()["drop_off"] == [
        {"node": "main_menu", "reached": 2, "went_on": 0, "hung_up": 2, "to_person": 0, "not_understood": 0}
    ]


def test_a_caller_who_calls_again_within_a_day_is_not_contained(app: Flask) -> None:
    """Helped at 10:00, the same caller calls again at 10:30 (and once more the next day, 25 hours
    later): the first call is called again and not contained, the second counts as helped; hidden
    numbers never count as the same caller."""

    def order_call(clock: str, caller: str) -> str:
        call = dial(app, clock, caller)
        call.press("2")
        call.press("5001#")
        call.hears("has shipped")
        call.hangup()
        return call.call_sid

    first = order_call("2026-11-24T10:00:00-05:00", "+15550400001")
    again = order_call("2026-11-24T10:30:00-05:00", "+15550400001")
    later = order_call("2026-11-25T11:30:00-05:00", "+15550400001")
    hidden = [
        order_call("2026-11-24T10:00:00-05:00", "anonymous"),
        order_call("2026-11-24T10:10:00-05:00", "anonymous"),
    ]
    starts = {first: MORNING, again: MORNING + dt.timedelta(minutes=30), later: MORNING + dt.timedelta(hours=25, minutes=30),
              hidden[0]: MORNING, hidden[1]: MORNING + dt.timedelta(minutes=10)}  # fmt: skip
    with app.app_context(), get_db().transaction() as session:
        for sid, at in starts.items():
            session.execute(update(Call).where(Call.call_sid == sid).values(started_at=at))
    with app.app_context():
        Worker(get_db(), app.config, threads=1).run_once()
    found = read(app)
    assert found.outcomes["helped"] == 5 and found.calls == 5
    assert (found.called_again, found.helped_called_again) == (1, 1)  # "later" is more than 24 hours on
    assert found.contained == 4 and found.containment == 4 / 5
    assert [(d.day, d.helped, d.helped_called_again) for d in found.days if d.calls] == [
        (dt.date(2026, 11, 24), 4, 1), (dt.date(2026, 11, 25), 1, 0)
    ]  # fmt: skip
    supervisor(app)
    from tests.helpers import login

    reply = login(app, "carol").get(f"/agent/api/insights?from={START}&to={END}")
    assert reply.get_json()["called_again"] == 1 and reply.get_json()["containment"] == 4 / 5
    page = login(app, "carol").get(f"/agent/insights?from={START}&to={END}").get_data(as_text=True)
    assert "80%" in page and "not counting 1 who called again within 24 hours" in page


def test_an_answer_followed_by_a_person_or_a_hang_up_did_not_help(app: Flask) -> None:
    """Nobody said no, but one caller asked for a person at "Did that answer your question?" and one hung
    up there: both count as not helped in "asked and not answered", shown in the callers' words; one who
    said yes does not."""
    for said, then in (("how much is shipping", "agent"), ("how much does delivery cost", "hang up"),
                       ("what does delivery cost", "yes")):  # fmt: skip
        call = dial(app, CLOSED)
        call.press("3")
        call.say(said)
        call.hears("Did that answer your question")
        if then == "hang up":
            call.hangup()
            continue
        call.say(then)
        call.hangup()
    with app.app_context(), get_db().transaction() as session:
        session.execute(update(Call).values(started_at=MORNING))
    with app.app_context():
        Worker(get_db(), app.config, threads=1).run_once()
    asked = {a.sample: (a.asked, a.not_found, a.not_helped) for a in read(app).asked}
    assert asked == {"how much is shipping": (1, 0, 1), "how much does delivery cost": (1, 0, 1)}  # "yes": not listed
