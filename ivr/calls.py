"""Call state in the database: read it for a step, save it back with the step's event, in one go.

A step writes one row: the call's state, its last answer, and its event log (a JSON array in the
same row, appended to by the database itself, so a step never reads the log back).

This is every webhook's hot path, so it talks to the database driver directly (plain SQL on a DB-API
connection made by the app's engine: kept between requests on SQLite, pooled on PostgreSQL) instead of
through SQLAlchemy's statement layer, which cost more than the database itself here. The SQL is
portable: SQLite and PostgreSQL run the same text, except for the parameter style and how each
appends to a JSON array.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event

from ivr import experiments, versions
from ivr.flows.engine import Turn
from ivr.flows.state import CallState

_COLUMNS = "call_sid, from_number, node, step, retries, collected, language, verified_customer_id, outcome, last_twiml"
FIND_CALL = f"SELECT {_COLUMNS} FROM calls WHERE call_sid = :sid"
INSERT_CALL = (
    "INSERT INTO calls (call_sid, from_number, to_number, language, node, step, retries, collected,"
    " verified_customer_id, outcome, last_twiml, started_at, updated_at, events, version) VALUES (:sid,"
    " :from_number, :to_number, :language, :node, :step, :retries, :collected, :verified_customer_id, :outcome,"
    " :last_twiml, :now, :now, :events, COALESCE(:version, ''))"
)
# Optimistic: the step is saved only if no other request saved this step first.
ADVANCE_CALL = (
    "UPDATE calls SET node = :node, step = :step, retries = :retries, collected = :collected, language = :language,"
    " verified_customer_id = :verified_customer_id, outcome = :outcome, last_twiml = :last_twiml, updated_at = :now,"
    " events = {append_event}, version = COALESCE(:version, version) WHERE call_sid = :sid AND step = :expected_step"
)
# The event (JSON text) goes on the end of the log: both databases append in place, each in its own words.
APPEND_EVENT = {
    "sqlite": "json_insert(events, '$[#]', json(:event))",
    "postgresql": "events || jsonb_build_array(CAST(:event AS jsonb))",
}
# A call that ends before any other outcome: the caller hung up.
END_CALL = (
    "UPDATE calls SET end_status = :status, duration_seconds = :duration, ended_at = COALESCE(ended_at, :now),"
    " outcome = COALESCE(outcome, 'hung_up') WHERE call_sid = :sid"
)

# A message made by Twilio's recording callback (the caller may have hung up during the recording):
# it outranks every outcome but a transfer (ivr.flows.state.OUTCOMES), whichever callback came first.
MESSAGE_LEFT = (
    "UPDATE calls SET outcome = 'message_left' WHERE call_sid = :sid"
    " AND (outcome IS NULL OR outcome IN ('hung_up', 'gave_up', 'helped'))"
)


@dataclass
class CallRecord:
    """A call's row as a step needs it."""

    call_sid: str
    from_number: str
    node: str
    step: int = 0
    retries: int = 0
    collected: dict[str, Any] = field(default_factory=dict)
    language: str = "en-US"
    verified_customer_id: int | None = None
    outcome: str | None = None
    last_twiml: str = ""
    is_new: bool = False


def open_call(call_sid: str, caller: str, language: str, node: str, by_number: bool = False) -> CallRecord:
    """A new call, inserted when its first turn is saved; `by_number`: the number called gave its
    language, so none is asked."""
    collected = {"language_by_number": True} if by_number else {}
    return CallRecord(call_sid=call_sid, from_number=caller[:32], node=node, language=language, is_new=True,
                      collected=collected)  # fmt: skip


def state_of(call: CallRecord) -> CallState:
    return CallState(
        node=call.node,
        call_sid=call.call_sid,
        step=call.step,
        retries=call.retries,
        collected=dict(call.collected or {}),
        language=call.language,
        caller=call.from_number,
        verified_customer_id=call.verified_customer_id,
        outcome=call.outcome,
    )


def check_sqlite_json() -> None:
    """The event log needs SQLite's JSON functions and its `$[#]` path (3.31, 2020): say so at start-up
    rather than have every call step fail."""
    probe = sqlite3.connect(":memory:")
    try:
        row = probe.execute(f"SELECT {APPEND_EVENT['sqlite']} FROM (SELECT '[]' AS events)", {"event": "1"}).fetchone()
        problem = "" if row == ("[1]",) else f"it appended as {row!r}"
    except sqlite3.Error as error:
        problem = str(error)
    finally:
        probe.close()
    if problem:
        raise RuntimeError(
            f"this Python's SQLite {sqlite3.sqlite_version} cannot append to a call's event log ({problem}):"
            " SQLite 3.31 or later, with its JSON functions, is needed"
        )


class CallStore:
    """Reads and saves call state on the app's engine (its pool, and its SQLite settings)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        if self.sqlite:
            check_sqlite_json()
        # SQLite takes :name parameters as written; PostgreSQL's driver takes %(name)s.
        style = (lambda sql: sql) if self.sqlite else (lambda sql: re.sub(r":(\w+)", r"%(\1)s", sql))
        advance = ADVANCE_CALL.replace("{append_event}", APPEND_EVENT[engine.dialect.name])
        self.sql = {name: style(text) for name, text in
                    {"find": FIND_CALL, "insert": INSERT_CALL, "advance": advance, "end": END_CALL,
                     "message_left": MESSAGE_LEFT, "knowledge": versions.KNOWLEDGE,
                     "experiments": experiments.RUNNING}.items()}  # fmt: skip
        # DB-API 2 drivers name the error for a duplicate key IntegrityError.
        self.duplicate_error = engine.dialect.dbapi.IntegrityError  # type: ignore[union-attr]
        # SQLite's connections are kept from one request to the next; PostgreSQL's come from the pool.
        self.kept = KeptConnections(engine) if self.sqlite else None

    def connected(self) -> CallConnection:
        """One connection for a whole webhook request, its read and its save: `with connected()`."""
        return CallConnection(self)

    def find(self, call_sid: str) -> CallRecord | None:
        with self.connected() as calls:
            return calls.find(call_sid)

    def save_turn(self, call: CallRecord, turn: Turn, at_node: str, twiml: str, called: str = "") -> bool:
        with self.connected() as calls:
            return calls.save_turn(call, turn, at_node, twiml, called)

    def end(self, call_sid: str, status: str, duration: int | None) -> None:
        with self.connected() as calls:
            calls.end(call_sid, status, duration)

    def message_left(self, call_sid: str) -> None:
        with self.connected() as calls:
            calls._one("message_left", {"sid": call_sid}, write=True)


class CallConnection:
    """Call state through one DB-API connection, held while in `with`; no transaction is open between
    its calls. (Plain methods rather than generator context managers: this is every step.)"""

    def __init__(self, store: CallStore) -> None:
        self.store = store
        self.sql = store.sql
        self.connection: Any = None

    def __enter__(self) -> CallConnection:
        kept = self.store.kept
        self.connection = kept.take() if kept is not None else self.store.engine.raw_connection()
        return self

    def __exit__(self, failure: type[BaseException] | None, *_exc: object) -> None:
        kept, connection, self.connection = self.store.kept, self.connection, None
        if kept is not None:
            kept.give_back(connection, failed=failure is not None)
        else:
            connection.close()  # back to the pool

    def _begin(self, write: bool) -> Any:
        # The SQLite connection is in autocommit mode: a write transaction is begun explicitly
        # (ivr.db.QueuedWriter), and a read is a single SELECT, which is a transaction of its own.
        if write and self.store.sqlite:
            self.connection.begin_writing()
        return self.connection.cursor()

    def _one(self, statement: str, params: dict[str, Any], write: bool = False, every: bool = False) -> Any:
        """Run one statement as a transaction of its own; its first row, if any (`every`: all its rows)."""
        cursor = self._begin(write)
        try:
            cursor.execute(self.sql[statement], params)
            found = (cursor.fetchall() if every else cursor.fetchone()) if cursor.description else None
        except BaseException:
            self.connection.rollback()
            raise
        self.connection.commit()  # ends PostgreSQL's read transaction too; a no-op for SQLite's reads
        return found

    def _now(self) -> tuple[Any, str]:
        """Now, for a timestamp column and for the event log (ISO 8601, UTC)."""
        now = dt.datetime.now(dt.UTC)
        # SQLAlchemy keeps SQLite datetimes as naive UTC text, "2026-11-24 21:30:00.123456"; stay
        # readable by the ORM (isoformat writes the same, in a fraction of strftime's time).
        column = now.replace(tzinfo=None).isoformat(" ", "microseconds") if self.store.sqlite else now
        return column, now.isoformat(timespec="milliseconds")

    def knowledge(self, language: str) -> tuple[Any, ...]:
        """The language's knowledge base as a version counts it (ivr/versions.py's KNOWLEDGE)."""
        return tuple(self._one("knowledge", {"language": language}))

    def experiments(self, language: str) -> list[tuple[Any, ...]]:
        """The experiments running in `language` (ivr/experiments.py's RUNNING), as one read."""
        return [tuple(row) for row in self._one("experiments", {"language": language}, every=True) or ()]

    def find(self, call_sid: str) -> CallRecord | None:
        row = self._one("find", {"sid": call_sid})
        if row is None:
            return None
        record = CallRecord(*row)
        if isinstance(record.collected, str):
            record.collected = json.loads(record.collected)
        return record

    def save_turn(
        self, call: CallRecord, turn: Turn, at_node: str, twiml: str, called: str = "", version: str | None = None
    ) -> bool:
        """Store the call's new state, the answer given, and the step at the end of its event log (and
        the version of the line it heard, when given: ivr/versions.py).

        The step's event: where the caller answered (`node`), what they did and what it `matched`,
        the nodes the call then went through (`path`, ending at `next_node`, where it waits or ends;
        a handler's exit is the node after it) and the prompts said.

        False when another request (a Twilio retry, another worker) saved this step first: nothing
        is written, and the caller should get that request's answer instead.
        """
        state = turn.state
        now, at = self._now()
        event = json.dumps({
            "step": state.step, "at": at, "node": at_node, "input_kind": turn.input_kind,
            "input_value": turn.input_value[:255], "matched": turn.matched[:64], "next_node": state.node,
            "said": " ".join(turn.said), "path": turn.path,
        })  # fmt: skip
        values = {
            "sid": call.call_sid, "node": state.node, "step": state.step, "retries": state.retries, "language": state.language,
            "collected": json.dumps(state.collected), "verified_customer_id": state.verified_customer_id,
            "outcome": state.outcome, "last_twiml": twiml, "now": now, "version": version,
        }  # fmt: skip
        if call.is_new:
            sql = self.sql["insert"]
            values.update(from_number=call.from_number, to_number=called[:32], events=f"[{event}]")
        else:
            sql = self.sql["advance"]
            values.update(expected_step=call.step, event=event)
        cursor = self._begin(write=True)
        try:
            cursor.execute(sql, values)
            if cursor.rowcount != 1:
                self.connection.rollback()
                return False
        except self.store.duplicate_error:
            self.connection.rollback()
            if call.is_new:
                return False
            raise
        except BaseException:
            self.connection.rollback()
            raise
        self.connection.commit()
        return True

    def end(self, call_sid: str, status: str, duration: int | None) -> None:
        """Twilio's status callback: how and when the call ended (a repeat keeps the first end time)."""
        now, _at = self._now()
        self._one("end", {"sid": call_sid, "status": status[:20], "duration": duration, "now": now}, write=True)


class KeptConnections:
    """Connections for call state on SQLite, kept from one request to the next.

    Taking a connection from SQLAlchemy's pool and giving it back cost more than a call step's read,
    and a connection to a local file cannot go stale the way a server's can (the pool pings those).
    So a request takes the connection the last one gave back (the same one, in a one-thread worker)
    and makes one only when all are busy. Each is made by the engine's pool, so it has the engine's
    settings, then detached from it. One is closed when a request using it failed, and all are when
    the engine is disposed of (the database file then holds every commit). After a fork the parent's
    are left alone, never used or closed.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._idle: list = []  # the last given back at the end
        self._all: weakref.WeakSet = weakref.WeakSet()
        self._inherited: list = []
        self._pid = os.getpid()
        self._guard = threading.Lock()
        event.listen(engine, "engine_disposed", lambda _engine: self.close_all())

    def take(self):  # type: ignore[no-untyped-def]
        if self._pid != os.getpid():
            with self._guard:
                self._inherited += self._idle  # the parent's: closing them here would disturb it
                self._idle, self._all, self._pid = [], weakref.WeakSet(), os.getpid()
        try:
            return self._idle.pop()
        except IndexError:
            pooled = self.engine.raw_connection()
            pooled.detach()
            with self._guard:
                self._all.add(pooled.dbapi_connection)
            return pooled.dbapi_connection

    def give_back(self, connection, failed: bool = False) -> None:  # type: ignore[no-untyped-def]
        if failed or connection not in self._all:  # failed, or closed by close_all meanwhile
            connection.close()
        else:
            self._idle.append(connection)

    def close_all(self) -> None:
        with self._guard:
            kept, self._all, self._idle = list(self._all), weakref.WeakSet(), []
        for connection in kept:
            connection.close()
