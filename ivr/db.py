"""The database: one engine per app, a session per unit of work, migrations with Alembic.

SQLite is made safe for several gunicorn workers writing at once: WAL so readers never block the
writer, a busy timeout so a writer waits instead of failing, and BEGIN IMMEDIATE so a transaction takes
the write lock up front (a deferred transaction that later tries to write can fail with "database is
locked" without waiting for the busy timeout). Reads run in `reading()` sessions, which take no lock,
so the write lock is held only for a step's few writes. Writers take turns for that lock
(`QueuedWriter`) instead of sleeping milliseconds in SQLite's busy handler, and the WAL is copied back
into the database file by a background thread (`WalCheckpointer`), not inside a caller's commit.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from flask import Flask, current_app
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.routing import IntegerConverter

from ivr.config import PROJECT_ROOT

MIGRATIONS = PROJECT_ROOT / "db" / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
CHECKPOINT_EVERY_SECONDS = 0.1
# Should the background checkpointer fall behind, the commit that takes the WAL past this many pages
# (40 MB) checkpoints it, as SQLite does by itself at 1000.
WAL_BACKSTOP_PAGES = 10_000


# The database keeps ids as INTEGER: 32 bits on PostgreSQL, so a larger number in a URL names nothing.
LARGEST_ID = 2**31 - 1


class RowId(IntegerConverter):
    """Flask's <int:...> for a row's id: 0 to LARGEST_ID, anything else is 404 (never an overflow)."""

    def __init__(self, map, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]  # noqa: A002
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(map, *args, **kwargs)


# The connection through which this thread is at the head of a writers' queue, if any.
_writing = threading.local()


class QueuedWriter(sqlite3.Connection):
    """A SQLite connection whose write transactions take turns in a queue before SQLite's lock.

    SQLite's busy handler polls for the write lock, sleeping 1, 2, 5, 10 ms... between tries, while
    a call step holds the lock for tens of microseconds: under load a worker mostly slept. Here a
    writer first takes an exclusive flock on a lock file beside the database, trying again at once
    (yielding the core), then after pauses of at most 80 µs, and only then BEGIN IMMEDIATE. SQLite's
    lock still decides: after the busy timeout a writer goes on to it without its turn, and gets
    SQLite's "database is locked" there if the holder never lets go (a wait is bounded, as before).
    """

    queue_fd: int | None = None
    in_queue = False

    def join_queue(self, lock_path: str) -> None:
        # One open file per connection: flock excludes open files, so threads queue too.
        self.queue_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        # Closed with the connection, or when the connection is garbage collected without being closed.
        self._close_queue_file = weakref.finalize(self, os.close, self.queue_fd)

    def begin_writing(self) -> None:
        """BEGIN IMMEDIATE, after taking this connection's turn among the writers."""
        holder = getattr(_writing, "holder", None)
        # A thread already writing through another connection must not wait for itself.
        nested = holder is not None and holder is not self and holder.in_queue
        if self.queue_fd is not None and not nested and self._take_turn():
            self.in_queue, _writing.holder = True, self
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._leave_queue()
            raise

    def _take_turn(self) -> bool:
        deadline, tries = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000, 0
        while True:
            try:
                fcntl.flock(self.queue_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # type: ignore[arg-type]
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                tries += 1
                # A turn lasts tens of microseconds: first let the holder run (it may be waiting for
                # this very core), then pause a little longer each time.
                if tries <= 20:
                    os.sched_yield()
                else:
                    time.sleep(10e-6 * 2 ** min(tries - 20, 3))  # 20, 40, 80, 80... µs

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._leave_queue()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._leave_queue()

    def close(self) -> None:
        self._leave_queue()
        if self.queue_fd is not None:
            self._close_queue_file()
            self.queue_fd = None
        super().close()

    def _leave_queue(self) -> None:
        # Whichever thread ends the transaction (the pool may roll back an abandoned one elsewhere).
        if self.in_queue:
            self.in_queue = False
            fcntl.flock(self.queue_fd, fcntl.LOCK_UN)  # type: ignore[arg-type]


class WalCheckpointer(threading.Thread):
    """Copies committed pages from the WAL back into the database file, in the background.

    SQLite checkpoints by itself inside whichever commit takes the WAL past 1000 pages, and the
    checkpoint ends with two fsyncs (synchronous=NORMAL): under load a caller's step waited on the
    disk every few hundred steps, and the worker served nobody meanwhile. Instead one thread per
    process and database file checkpoints every 0.1 s (PASSIVE: it never waits for, or blocks, a
    reader or writer), with SQLite's lock released during the disk's work. It ends when the engine
    is disposed of (before dispose() returns) or gone.
    """

    running: ClassVar[dict[tuple[int, str], WalCheckpointer]] = {}
    _guard = threading.Lock()

    def __init__(self, path: str, engine: Engine) -> None:
        super().__init__(name=f"wal-checkpointer {path}", daemon=True)
        self.path, self.engine, self.stopped = path, weakref.ref(engine), threading.Event()

    @classmethod
    def ensure(cls, path: str, engine: Engine) -> None:
        """Start this process's checkpointer for `path`, unless it runs (a forked worker has none)."""
        key = (os.getpid(), path)
        with cls._guard:
            running = cls.running.get(key)
            if running is not None and running.is_alive() and not running.stopped.is_set():
                return
            cls.running[key] = checkpointer = cls(path, engine)
            event.listen(engine, "engine_disposed", lambda _engine: checkpointer.stop())
        checkpointer.start()

    def stop(self) -> None:
        """Stop, and close this thread's connection before returning: once the last connection to
        the file closes, SQLite folds the WAL into it, and the file alone holds every commit."""
        self.stopped.set()
        if self is not threading.current_thread() and self.is_alive():
            self.join(5)

    def run(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA synchronous=NORMAL")
            while not self.stopped.wait(CHECKPOINT_EVERY_SECONDS) and self.engine() is not None:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:
            pass  # the file went away; SQLite's own checkpoints (WAL_BACKSTOP_PAGES) remain
        finally:
            connection.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and queued immediate write transactions."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    path = url.split("///", 1)[-1]
    on_disk = bool(path) and path != ":memory:" and not path.startswith("file:")
    if on_disk:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "factory": QueuedWriter})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP_PAGES}")
        cursor.close()
        if on_disk:
            dbapi_connection.join_queue(f"{path}-writers")
            WalCheckpointer.ensure(path, engine)

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        if connection.get_execution_options().get("ivr_writes", True):
            connection.connection.dbapi_connection.begin_writing()
        else:
            connection.connection.dbapi_connection.execute("BEGIN DEFERRED")

    return engine


class Database:
    """The app's engine and session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(self.engine.execution_options(ivr_writes=False), expire_on_commit=False)
        from ivr.calls import CallStore  # the calls' own store, on this engine

        self.calls = CallStore(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed together, or rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only: on SQLite it takes no write lock and never waits for one."""
        with self.read_sessions() as session, session.begin():
            yield session

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"


def init_app(app: Flask) -> Database:
    """The app's database; before any blueprint, so that every route reads <int:...> as a RowId."""
    app.url_map.converters["int"] = RowId
    database = Database(app.config["DATABASE_URL"])
    app.extensions["ivr.db"] = database
    return database


def get_db() -> Database:
    return current_app.extensions["ivr.db"]


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


# What hosts started together do one at a time (PostgreSQL's advisory locks are keyed by a number).
ONE_AT_A_TIME = {"migrations": 7_310_001, "seed": 7_310_002}


@contextmanager
def one_at_a_time(url: str, what: str) -> Iterator[None]:
    """Hold the database's lock for `what` (migrations, loading the demo): a second host started at
    the same moment waits here, then finds the work done. On PostgreSQL an advisory lock, held by a
    connection of its own (released if this process dies); on SQLite a lock file beside the database."""
    if url.startswith("postgresql"):
        from sqlalchemy import text
        from sqlalchemy.pool import NullPool

        engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ONE_AT_A_TIME[what]})
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ONE_AT_A_TIME[what]})
        finally:
            engine.dispose()
        return
    path = url.split("///", 1)[-1] if url.startswith("sqlite") else ""
    if not path or path == ":memory:" or path.startswith("file:"):
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}-{what}", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # let go when the file closes, or the process dies
        yield


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to the latest schema; hosts started together upgrade it once."""
    # Alembic's INFO lines (plugins, context, each revision) say nothing a person running the IVR needs.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from alembic import command

    with one_at_a_time(url, "migrations"):
        command.upgrade(alembic_config(url), revision)
