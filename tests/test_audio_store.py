"""Where messages' audio is kept: this host's folder or the database, and `recordings move` between them.

Each message gets a clip of its own length, so that a copy given to the wrong message, or cut, shows
in the byte-for-byte comparison."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from ivr import create_app
from ivr.config import ConfigError
from ivr.db import get_db, upgrade
from ivr.messages import audio_store
from ivr.models import Message, RecordingAudio
from ivr.seed import load_demo_line
from ivr.simulator.phone import SimulatedCall
from ivr.simulator.transport import FlaskTransport
from ivr.worker import Worker
from tests.conftest import MEDIA_HOSTS, NO_RETENTION, TOKEN, make_app
from tests.helpers import CLOSED, PASSWORD, login, postgres_url, write_clip

__all__ = ["postgres_url"]


def leave_messages(app: Flask, tmp_path: Path, count: int = 3) -> dict[int, bytes]:
    """`count` messages left by phone and copied by the worker: message id -> the clip's bytes."""
    clips = {}
    for n in range(count):
        clip = write_clip(tmp_path / f"clip-{n}.wav", 1.0 + n / 4)
        call = SimulatedCall(FlaskTransport(app, TOKEN), caller=f"+1555010{n:04d}").dial()
        call.press("0")
        call.press("1")
        call.record(clip, then_hangup=True)
        with app.app_context(), get_db().reading() as session:
            clips[session.scalar(select(func.max(Message.id)))] = clip.read_bytes()
    with app.app_context():
        Worker(get_db(), app.config).run_once()
    return clips


def kept(app: Flask) -> dict[int, tuple[str, bytes | None]]:
    """Each stored message's audio name and the bytes read back through the line's store."""
    with app.app_context(), get_db().reading() as session:
        rows = session.execute(select(Message.id, Message.audio_path).where(Message.audio_status == "stored")).all()
        line = audio_store.for_line(app.config, get_db())
    return {message_id: (name, line.read(name)) for message_id, name in rows}


def move(app: Flask, to: str) -> str:
    result = app.test_cli_runner().invoke(args=["recordings", "move", "--to", to])
    assert result.exit_code == 0, result.output
    return result.output


def rows_in_table(app: Flask) -> int:
    with app.app_context(), get_db().reading() as session:
        return session.scalar(select(func.count()).select_from(RecordingAudio)) or 0


def played(app: Flask, message_id: int) -> bytes:
    reply = login(app).get(f"/agent/messages/{message_id}/audio")
    assert reply.status_code == 200
    return reply.data


def moved_both_ways(app: Flask, tmp_path: Path, first: str) -> None:
    """Messages kept in `first` moved to the other store and back, every copy compared byte for byte."""
    other = "folder" if first == "database" else "database"
    folder = Path(app.config["DATA_DIR"]) / "recordings"
    clips = leave_messages(app, tmp_path)
    assert {message_id: data for message_id, (_name, data) in kept(app).items()} == clips
    assert all(name.startswith("database:") == (first == "database") for name, _data in kept(app).values())
    heard = {message_id: played(app, message_id) for message_id in clips}

    assert move(app, other).startswith("3 moved to ")
    assert {message_id: data for message_id, (_name, data) in kept(app).items()} == clips
    assert all(name.startswith("database:") == (other == "database") for name, _data in kept(app).values())
    # The old copies are gone from where they were.
    assert rows_in_table(app) == (3 if other == "database" else 0)
    assert sorted(path.name for path in folder.glob("*")) == ([] if other == "database" else sorted(
        f"message-{message_id}.wav" for message_id in clips))  # fmt: skip
    # The agent hears what they heard before the move.
    assert {message_id: played(app, message_id) for message_id in clips} == heard

    assert move(app, other).startswith("0 moved")  # again: nothing to do
    assert "3 there already" in move(app, other)
    move(app, first)
    assert {message_id: data for message_id, (_name, data) in kept(app).items()} == clips
    assert rows_in_table(app) == (3 if first == "database" else 0)


@pytest.fixture
def agents_app(app: Flask) -> Flask:
    app.config.update(CLOCK=CLOSED, SECRET_KEY="test-secret-key")
    result = app.test_cli_runner().invoke(args=["agents", "create", "ann"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    return app


def test_on_sqlite_the_folder_by_default_moved_to_the_database_and_back(agents_app: Flask, tmp_path: Path) -> None:
    assert audio_store.kind_for(agents_app.config) == "folder"
    moved_both_ways(agents_app, tmp_path, "folder")


def test_on_postgresql_the_database_by_default_moved_to_the_folder_and_back(postgres_url: str, tmp_path: Path) -> None:
    upgrade(postgres_url)
    app = create_app({"DATABASE_URL": postgres_url, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_MEDIA_HOSTS": MEDIA_HOSTS,
                      "DATA_DIR": str(tmp_path / "data"), "AUDIO_RETENTION_DAYS": NO_RETENTION, "CLOCK": CLOSED,
                      "SECRET_KEY": "test-secret-key"})  # fmt: skip
    try:
        with app.app_context(), get_db().transaction() as session:
            load_demo_line(session)
        result = app.test_cli_runner().invoke(args=["agents", "create", "ann"], input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
        assert audio_store.kind_for(app.config) == "database"
        moved_both_ways(app, tmp_path, "database")
    finally:
        app.extensions["ivr.db"].engine.dispose()


def test_a_copy_that_cannot_be_read_is_left_as_it_is_and_said(agents_app: Flask, tmp_path: Path) -> None:
    clips = leave_messages(agents_app, tmp_path, count=2)
    lost, whole = sorted(clips)
    (Path(agents_app.config["DATA_DIR"]) / "recordings" / f"message-{lost}.wav").unlink()
    result = agents_app.test_cli_runner().invoke(args=["recordings", "move", "--to", "database"])
    assert result.exit_code == 1
    assert "1 moved" in result.output and f"messages {lost})" in result.output
    now = kept(agents_app)
    assert now[lost] == (f"message-{lost}.wav", None)  # still names where it was: nothing pretends
    assert now[whole] == (f"database:message-{whole}.wav", clips[whole])


def test_the_setting_chooses_where_new_copies_go_and_old_ones_are_still_read(agents_app: Flask, tmp_path: Path) -> None:
    first = leave_messages(agents_app, tmp_path, count=1)
    agents_app.config["RECORDINGS_STORE"] = "database"
    second = leave_messages(agents_app, tmp_path, count=1)
    now = kept(agents_app)
    assert [now[message_id][0].startswith("database:") for message_id in (*first, *second)] == [False, True]
    assert {message_id: data for message_id, (_name, data) in now.items()} == {**first, **second}


def test_retention_deletes_from_the_database_too(agents_app: Flask, tmp_path: Path) -> None:
    agents_app.config["RECORDINGS_STORE"] = "database"
    leave_messages(agents_app, tmp_path, count=2)
    assert rows_in_table(agents_app) == 2
    with agents_app.app_context(), get_db().transaction() as session:
        session.execute(update(Message).values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=91)))
    agents_app.config["AUDIO_RETENTION_DAYS"] = 90
    with agents_app.app_context():
        assert Worker(get_db(), agents_app.config).apply_retention(dt.datetime.now(dt.UTC)) == 2
    assert rows_in_table(agents_app) == 0 and kept(agents_app) == {}


def test_an_unknown_store_stops_the_start(tmp_path: Path, template_db: Path) -> None:
    with pytest.raises(ConfigError, match="IVR_RECORDINGS_STORE must be one of folder, database, not 's3'"):
        make_app(tmp_path, template_db, RECORDINGS_STORE="s3")


def test_names_read_only_their_own_store(app: Flask, tmp_path: Path) -> None:
    (tmp_path / "secret.wav").write_bytes(b"RIFF")
    with app.app_context():
        line = audio_store.for_line(app.config, get_db())
        folder, table = line.stores["folder"], line.stores["database"]
        name = table.keep(7, b"RIFF audio")
        assert line.read(name) == b"RIFF audio" and folder.read(name) is None
        for outside in ("../secret.wav", "/etc/passwd", "database:../../secret.wav", "sub/message-1.wav"):
            assert folder.read(outside) is None and table.read(outside) is None
