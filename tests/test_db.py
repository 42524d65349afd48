"""SQLite writers queue for the write lock instead of sleeping in SQLite's busy handler; call state
keeps its connections from one request to the next."""

from __future__ import annotations

import fcntl
import gc
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from ivr.calls import KeptConnections
from ivr.db import Database, WalCheckpointer


@pytest.fixture
def database(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'q.sqlite3'}")
    with db.transaction() as session:
        session.execute(text("CREATE TABLE notes (n INTEGER)"))
    yield db
    db.engine.dispose()


def queue_is_free(tmp_path: Path) -> bool:
    """Whether a newcomer could take the writers' queue right now (without waiting)."""
    fd = os.open(tmp_path / "q.sqlite3-writers", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing releases a lock taken here
    return True


def test_a_write_transaction_holds_the_queue_until_it_commits(database: Database, tmp_path: Path) -> None:
    with database.transaction() as session:
        session.execute(text("INSERT INTO notes VALUES (1)"))
        assert not queue_is_free(tmp_path)
    assert queue_is_free(tmp_path)


def test_a_failed_write_transaction_leaves_the_queue(database: Database, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), database.transaction() as session:
        session.execute(text("INSERT INTO notes VALUES (1)"))
        raise RuntimeError("the caller hung up")
    assert queue_is_free(tmp_path)
    with database.reading() as session:
        assert session.execute(text("SELECT count(*) FROM notes")).scalar() == 0


def test_reads_do_not_queue(database: Database, tmp_path: Path) -> None:
    with database.reading() as session:
        session.execute(text("SELECT count(*) FROM notes")).scalar()
        assert queue_is_free(tmp_path)


def test_the_next_writer_waits_in_the_queue_not_in_sqlite(database: Database) -> None:
    """A second writer whose SQLite busy timeout is zero (it would fail at once on a held lock)
    waits in the queue while the first writes, then writes after it: nothing lost or refused."""
    order: list[str] = []
    first_in = threading.Event()
    release_first = threading.Event()

    def first() -> None:
        with database.transaction() as session:
            session.execute(text("INSERT INTO notes VALUES (1)"))
            order.append("first writes")
            first_in.set()
            release_first.wait(5)
            order.append("first commits")

    def second() -> None:
        first_in.wait(5)
        connection = database.engine.raw_connection()
        try:
            connection.execute("PRAGMA busy_timeout=0")
            connection.begin_writing()
            connection.execute("INSERT INTO notes VALUES (2)")
            connection.commit()
            order.append("second writes")
        except sqlite3.OperationalError as error:
            order.append(f"second refused: {error}")
        finally:
            connection.invalidate()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_in.wait(5)
    time.sleep(0.2)
    assert order == ["first writes"]  # the second is still waiting
    release_first.set()
    for thread in threads:
        thread.join(5)
    assert order == ["first writes", "first commits", "second writes"]
    with database.reading() as session:
        assert session.execute(text("SELECT n FROM notes ORDER BY n")).scalars().all() == [1, 2]


def test_a_thread_writing_twice_at_once_gets_an_error_not_a_hang(tmp_path: Path) -> None:
    """Nested write transactions in one thread cannot both have the lock: SQLite's busy timeout
    answers (as before the queue existed), the queue does not wait forever for itself."""
    db = Database(f"sqlite:///{tmp_path / 'q.sqlite3'}")
    try:
        with db.transaction() as session:
            session.execute(text("CREATE TABLE notes (n INTEGER)"))
        with db.transaction() as outer:
            outer.execute(text("INSERT INTO notes VALUES (1)"))
            inner = db.engine.raw_connection()
            try:
                inner.execute("PRAGMA busy_timeout=100")
                with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                    inner.begin_writing()
            finally:
                inner.close()
    finally:
        db.engine.dispose()
    with sqlite3.connect(tmp_path / "q.sqlite3") as plain:
        assert plain.execute("SELECT n FROM notes").fetchall() == [(1,)]


def in_the_database_file(tmp_path: Path) -> list[int]:
    """The notes in the database file itself, without the WAL: what has been checkpointed."""
    copy = tmp_path / "copy" / "q.sqlite3"
    copy.parent.mkdir(exist_ok=True)
    copy.write_bytes((tmp_path / "q.sqlite3").read_bytes())
    plain = sqlite3.connect(copy)
    try:
        return [n for (n,) in plain.execute("SELECT n FROM notes ORDER BY n")]
    except sqlite3.OperationalError:  # not even the table yet
        return []
    finally:
        plain.close()


def wait_for(condition, seconds: float = 5) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return bool(condition())


def test_commits_reach_the_database_file_in_the_background(database: Database, tmp_path: Path) -> None:
    """A commit leaves its pages in the WAL (SQLite alone would copy them only at 10,000 pages);
    this process's checkpointer copies them into the database file within a moment."""
    with database.transaction() as session:
        session.execute(text("INSERT INTO notes VALUES (7)"))
    assert wait_for(lambda: in_the_database_file(tmp_path) == [7])


def test_without_the_checkpointer_a_commit_stays_in_the_wal(database: Database, tmp_path: Path) -> None:
    with database.transaction() as session:
        session.execute(text("INSERT INTO notes VALUES (7)"))
    assert wait_for(lambda: in_the_database_file(tmp_path) == [7])
    (checkpointer,) = [c for (pid, path), c in WalCheckpointer.running.items() if path.startswith(str(tmp_path))]
    database.engine.dispose()
    checkpointer.join(5)
    assert not checkpointer.is_alive()
    plain = sqlite3.connect(tmp_path / "q.sqlite3", isolation_level=None)
    plain.execute("PRAGMA wal_autocheckpoint=10000")
    plain.execute("INSERT INTO notes VALUES (8)")
    time.sleep(0.3)
    assert in_the_database_file(tmp_path) == [7]  # 8 is only in the WAL
    assert plain.execute("SELECT n FROM notes ORDER BY n").fetchall() == [(7,), (8,)]
    plain.close()


def test_a_stuck_queue_holds_a_writer_only_until_the_busy_timeout(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever holds the queue without writing (a stuck process) delays a writer by at most the
    busy timeout; then SQLite's own lock decides, and here it is free."""
    monkeypatch.setattr("ivr.db.SQLITE_BUSY_TIMEOUT_MS", 300)
    stuck = os.open(tmp_path / "q.sqlite3-writers", os.O_RDWR)
    fcntl.flock(stuck, fcntl.LOCK_EX)
    try:
        started = time.monotonic()
        with database.transaction() as session:
            session.execute(text("INSERT INTO notes VALUES (3)"))
        assert 0.3 <= time.monotonic() - started < 3
    finally:
        os.close(stuck)
    with database.reading() as session:
        assert session.execute(text("SELECT n FROM notes")).scalars().all() == [3]


def test_a_transaction_ended_by_another_thread_leaves_the_queue(database: Database, tmp_path: Path) -> None:
    """The pool may roll back an abandoned connection on another thread: the turn ends with it."""
    connection = database.engine.raw_connection()
    connection.begin_writing()
    assert not queue_is_free(tmp_path)
    ender = threading.Thread(target=connection.rollback)
    ender.start()
    ender.join(5)
    assert queue_is_free(tmp_path)
    connection.close()


def test_once_disposed_the_database_file_alone_holds_every_commit(tmp_path: Path) -> None:
    """Copying the file after dispose() (as a backup or a test template would) loses nothing: the
    checkpointer's connection is closed by then, and SQLite folds the WAL into the file."""
    db = Database(f"sqlite:///{tmp_path / 'q.sqlite3'}")
    with db.transaction() as session:
        session.execute(text("CREATE TABLE notes (n INTEGER)"))
        session.execute(text("INSERT INTO notes VALUES (5)"))
    db.engine.dispose()
    assert in_the_database_file(tmp_path) == [5]


# ---- connections kept for call state ------------------------------------------------------------


def test_a_request_takes_the_connection_the_last_one_gave_back(database: Database) -> None:
    kept = KeptConnections(database.engine)
    first = kept.take()
    kept.give_back(first)
    assert kept.take() is first
    kept.give_back(first)
    elsewhere: list[object] = []
    worker = threading.Thread(target=lambda: elsewhere.append(kept.take()))
    worker.start()
    worker.join(5)
    assert elsewhere == [first]  # any thread: a connection is not tied to one


def test_requests_at_once_get_a_connection_each(database: Database) -> None:
    kept = KeptConnections(database.engine)
    one, other = kept.take(), kept.take()
    assert one is not other
    kept.give_back(one)
    kept.give_back(other)
    assert {id(kept.take()), id(kept.take())} == {id(one), id(other)}


def test_a_connection_whose_request_failed_is_closed_not_kept(database: Database) -> None:
    kept = KeptConnections(database.engine)
    failed = kept.take()
    kept.give_back(failed, failed=True)
    with pytest.raises(sqlite3.ProgrammingError):
        failed.execute("SELECT 1")
    fresh = kept.take()
    assert fresh is not failed and fresh.execute("SELECT count(*) FROM notes").fetchone() == (0,)


def test_disposing_of_the_engine_closes_the_kept_connections(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'q.sqlite3'}")
    kept = KeptConnections(db.engine)
    idle, busy = kept.take(), kept.take()
    kept.give_back(idle)
    busy.execute("CREATE TABLE notes (n INTEGER)")
    busy.begin_writing()
    busy.execute("INSERT INTO notes VALUES (7)")
    busy.commit()
    db.engine.dispose()
    assert in_the_database_file(tmp_path) == [7]  # no connection kept the WAL open
    kept.give_back(busy)  # a request that was under way: its connection is closed, not kept
    again = kept.take()
    assert again not in (idle, busy) and again.execute("SELECT n FROM notes").fetchall() == [(7,)]
    again.close()


def test_threads_that_come_and_go_leave_no_file_open(database: Database) -> None:
    """A development server starts a thread per request: connections are reused, not made per thread."""
    kept = KeptConnections(database.engine)

    def one_request() -> None:
        kept.give_back(kept.take())

    def run_threads(n: int) -> None:
        for _ in range(n):
            worker = threading.Thread(target=one_request)
            worker.start()
            worker.join(5)

    run_threads(1)
    gc.collect()
    before = len(os.listdir("/proc/self/fd"))
    run_threads(20)
    gc.collect()
    # Other tests' background threads may close files meanwhile: only a growth is a leak.
    assert len(os.listdir("/proc/self/fd")) <= before


def test_a_forked_process_makes_its_own_connection(database: Database) -> None:
    """gunicorn forks workers: a connection made before the fork is the parent's, never the child's."""
    kept = KeptConnections(database.engine)
    parent = kept.take()
    kept.give_back(parent)
    # As a gunicorn master has none: a thread inside SQLite at the fork would leave its lock held.
    for checkpointer in list(WalCheckpointer.running.values()):
        checkpointer.stop()
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status, never return into pytest
        signal.alarm(20)  # a hang ends the child, and fails the test
        try:
            child = kept.take()
            child.execute("SELECT count(*) FROM notes").fetchone()
            os._exit(0 if child is not parent else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert kept.take() is parent and parent.execute("SELECT count(*) FROM notes").fetchone() == (0,)


def test_a_sqlite_without_json_functions_is_named_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    from ivr import calls

    calls.check_sqlite_json()  # this machine's SQLite can
    monkeypatch.setitem(calls.APPEND_EVENT, "sqlite", "json_insert_missing(events, '$[#]', json(:event))")
    with pytest.raises(RuntimeError, match=r"SQLite 3\.31 or later"):
        calls.check_sqlite_json()


def test_a_call_step_writes_no_index() -> None:
    """A step's UPDATE sets none of the columns an index of `calls` holds, so it writes its row alone
    (each index it moved cost every step a page or two more: bench/webhooks.py)."""
    import re

    from ivr.calls import ADVANCE_CALL
    from ivr.models import Call

    written = set(re.findall(r"(\w+) = ", ADVANCE_CALL.split(" WHERE ")[0]))
    assert {"node", "step", "updated_at", "events"} <= written
    indexed = {column.name for index in Call.__table__.indexes for column in index.columns}
    assert indexed and not indexed & written
