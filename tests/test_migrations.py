"""The Alembic migrations build exactly the schema the models declare."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ivr.db import make_engine, upgrade
from ivr.models import Base, modelled


def test_migrations_match_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": modelled})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_upgrading_twice_is_harmless(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    upgrade(url)
    upgrade(url)


def test_the_event_log_moves_into_the_call_row_and_back(tmp_path: Path) -> None:
    """0005 keeps every logged step of calls made before it, in order (and its downgrade restores them)."""
    from alembic import command

    from ivr.db import alembic_config

    path = tmp_path / "m.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url, "0004")
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO calls (call_sid, from_number, to_number, language, node, step, retries, collected,"
                   " last_twiml, started_at, updated_at) VALUES ('CA1', '+1', '+2', 'en-US', 'order_number', 2, 0,"
                   " '{}', '', '2026-11-24 10:00:00', '2026-11-24 10:00:05')")  # fmt: skip
        db.executemany(
            "INSERT INTO call_events (call_sid, seq, at, node, input_kind, input_value, matched, next_node, said)"
            " VALUES ('CA1', ?, ?, ?, ?, ?, ?, ?, ?)",
            [(2, "2026-11-24 10:00:05", "main_menu", "dtmf", "2", "order_status", "order_number", "order_number"),
             (1, "2026-11-24 10:00:00", "start", "start", "", "", "main_menu", "greeting main_menu")],
        )  # fmt: skip
    upgrade(url)
    with sqlite3.connect(path) as db:
        events = json.loads(db.execute("SELECT events FROM calls WHERE call_sid = 'CA1'").fetchone()[0])
        assert "call_events" not in {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert [(e["step"], e["node"], e["matched"], e["said"]) for e in events] == [
        (1, "start", "", "greeting main_menu"),
        (2, "main_menu", "order_status", "order_number"),
    ]
    assert events[1]["at"].startswith("2026-11-24") and events[1]["input_value"] == "2"
    command.downgrade(alembic_config(url), "0004")
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT seq, node, matched FROM call_events WHERE call_sid = 'CA1' ORDER BY seq").fetchall()
    assert rows == [(1, "start", ""), (2, "main_menu", "order_status")]


def test_calls_made_before_outcomes_get_what_the_database_can_tell(tmp_path: Path) -> None:
    """0006: a completed transfer, a message left, an ended call hung up; a call under way stays open."""
    from alembic import command

    from ivr.db import alembic_config

    path = tmp_path / "m.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url, "0005")
    calls = {
        "CAtransfer": ('{"transfer_status": "completed"}', "2026-11-24 10:01:00"),
        "CAbusy": ('{"transfer_status": "busy"}', "2026-11-24 10:01:00"),
        "CAmessage": ("{}", "2026-11-24 10:01:00"),
        "CAended": ("{}", "2026-11-24 10:01:00"),
        "CAunderway": ("{}", None),
    }
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO calls (call_sid, from_number, to_number, language, node, step, retries, collected, last_twiml,"
            " started_at, updated_at, ended_at) VALUES (?, '+1', '+2', 'en-US', 'main_menu', 1, 0, ?, '',"
            " '2026-11-24 10:00:00', '2026-11-24 10:00:00', ?)",
            [(sid, collected, ended) for sid, (collected, ended) in calls.items()],
        )
        db.execute("INSERT INTO messages (recording_sid, call_sid, account_sid, recording_url, caller, branch, reason,"
                   " path, duration_seconds, created_at, status, audio_status, audio_attempts, audio_error, transcript,"
                   " transcript_status, transcript_attempts, transcript_error) VALUES ('RE1', 'CAmessage', '', 'u', '',"
                   " '', '', '[]', 5, '2026-11-24 10:00:30', 'new', 'pending', 0, '', '', 'waiting', 0, '')")  # fmt: skip
    upgrade(url)
    with sqlite3.connect(path) as db:
        outcomes = dict(db.execute("SELECT call_sid, outcome FROM calls"))
    assert outcomes == {"CAtransfer": "transferred", "CAbusy": "hung_up", "CAmessage": "message_left",
                        "CAended": "hung_up", "CAunderway": None}  # fmt: skip
    command.downgrade(alembic_config(url), "0005")
    with sqlite3.connect(path) as db:
        assert "outcome" not in {row[1] for row in db.execute("PRAGMA table_info(calls)")}


def test_knowledge_base_entries_get_a_language_and_slugs_are_unique_per_language(tmp_path: Path) -> None:
    """0014: entries and questions from before are en-US; a slug may be an entry in each language, once."""
    from alembic import command

    from ivr.db import alembic_config

    path = tmp_path / "m.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url, "0013")
    entry = ("INSERT INTO faq_entries (slug, {}category, title, question, answer, keywords)"
             " VALUES ('returns', {}'r', 't', 'q', 'a', '[]')")  # fmt: skip
    with sqlite3.connect(path) as db:
        db.execute(entry.format("", ""))
        db.execute("INSERT INTO faq_queries (call_sid, step, at, asked, answered_slug) VALUES ('CA1', 1,"
                   " '2026-11-24 10:00:00', 'how do I send it back', 'returns')")  # fmt: skip
    upgrade(url, "0014")
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT language FROM faq_entries").fetchall() == [("en-US",)]
        assert db.execute("SELECT language FROM faq_queries").fetchall() == [("en-US",)]
        db.execute(entry.format("language, ", "'fi-FI', "))
        try:
            db.execute(entry.format("language, ", "'fi-FI', "))
        except sqlite3.IntegrityError:
            pass
        else:
            raise AssertionError("the same slug twice in one language was let in")
    command.downgrade(alembic_config(url), "0013")
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT slug FROM faq_entries").fetchall() == [("returns",)]
        assert "language" not in {row[1] for row in db.execute("PRAGMA table_info(faq_entries)")}
