"""Voice messages: made once per recording whoever reports it, never lost, copied and transcribed."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import requests
import soundfile
from flask import Flask
from sqlalchemy import select, update

from ivr.db import get_db
from ivr.models import Message, MessageHistory
from ivr.simulator import media
from ivr.simulator.phone import SimulatedCall
from ivr.simulator.scenario import load, run
from ivr.simulator.transport import FlaskTransport, HttpTransport
from ivr.worker import Worker
from tests.conftest import TOKEN

SCENARIOS = Path(__file__).parent / "scenarios"
MESSAGES = Path(__file__).parent / "fixtures" / "messages"


def play(app: Flask, name: str) -> None:
    outcome = run(load(SCENARIOS / name), FlaskTransport(app, TOKEN))
    assert outcome.ok, outcome.report()


def messages(app: Flask) -> list[Message]:
    with app.app_context(), get_db().reading() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def history(app: Flask, message_id: int) -> list[str]:
    with app.app_context(), get_db().reading() as session:
        rows = session.scalars(select(MessageHistory).where(MessageHistory.message_id == message_id))
        return [row.action for row in rows]


def worker(app: Flask) -> Worker:
    with app.app_context():
        return Worker(get_db(), app.config)


def test_a_message_keeps_who_called_where_why_and_the_path(app: Flask) -> None:
    play(app, "message_out_of_hours.yaml")
    [message] = messages(app)
    assert message.caller == "+15550100001" and message.customer_id is None  # caller ID is not verification
    assert (message.branch, message.reason, message.status) == ("agent_hours", "out_of_hours", "new")
    assert message.path == ["main_menu: agent", "callback_offer: leave_message"]
    assert message.duration_seconds == 13 and message.recording_url.startswith("http://127.0.0.1:")
    assert message.created_at.replace(tzinfo=dt.UTC) == dt.datetime(2026, 11, 25, 0, 30, tzinfo=dt.UTC)
    assert (message.audio_status, message.transcript_status) == ("pending", "waiting")


def test_after_failures_and_after_hanging_up_the_message_is_in_the_queue(app: Flask) -> None:
    play(app, "message_after_failures.yaml")
    play(app, "message_hangup_during_recording.yaml")
    first, second = messages(app)
    assert (first.reason, first.branch, first.status) == ("failures", "order_number", "new")
    assert first.path[:2] == ["main_menu: order_status", "order_number: no_match"]
    assert (second.reason, second.status, second.caller) == ("out_of_hours", "new", "+15550100002")


def test_a_locked_account_leaves_a_message_with_its_reason(app: Flask) -> None:
    play(app, "message_account_locked.yaml")
    [message] = messages(app)
    assert (message.reason, message.branch) == ("account_locked", "pin_entry")


def test_recording_again_replaces_the_first_recording(app: Flask) -> None:
    play(app, "message_re_recorded.yaml")
    first, second = messages(app)
    assert (first.status, second.status) == ("replaced", "new")
    assert "replaced" in history(app, first.id)


def test_an_empty_recording_makes_no_message(app: Flask) -> None:
    play(app, "message_empty.yaml")
    [message] = messages(app)  # only the second, real recording
    assert message.duration_seconds == 10


def test_five_concurrent_callbacks_of_one_recording_make_one_message(app: Flask) -> None:
    call = SimulatedCall(FlaskTransport(app, TOKEN), "+15550100001")
    call.dial()
    sid = "RE" + "7" * 32
    url = media.server().publish(MESSAGES / "ada.wav", call.account_sid, TOKEN, sid)
    params = {**call._base_params(first=False), "RecordingSid": sid, "RecordingUrl": url,
              "RecordingStatus": "completed", "RecordingDuration": "13"}  # fmt: skip

    def post(_: int) -> int:
        return FlaskTransport(app, TOKEN).post("/voice/recording", params).status

    with ThreadPoolExecutor(5) as pool:
        assert list(pool.map(post, range(5))) == [200] * 5
    [message] = messages(app)
    assert message.recording_sid == sid and message.account_sid == call.account_sid


def test_the_worker_copies_with_basic_auth_retries_and_transcribes(app: Flask, tmp_path: Path) -> None:
    play(app, "message_download_retried.yaml")
    [message] = messages(app)
    clip = media.server().clip(message.recording_sid)
    assert clip is not None and clip.fail_first == 2
    work, start = worker(app), dt.datetime.now(dt.UTC)
    work.run_once(start)
    [message] = messages(app)
    # Meanwhile the message is in the queue, with Twilio's URL, and the failure is visible.
    assert (message.status, message.audio_status, message.audio_attempts) == ("new", "pending", 1)
    assert "503" in message.audio_error and message.next_try_at is not None
    work.run_once(start + dt.timedelta(seconds=5))  # too early for the next try
    assert messages(app)[0].audio_attempts == 1
    work.run_once(start + dt.timedelta(seconds=20))
    work.run_once(start + dt.timedelta(seconds=60))
    [message] = messages(app)
    assert (message.audio_status, message.audio_attempts, message.audio_error) == ("stored", 3, "")
    stored = Path(app.config["DATA_DIR"]) / "recordings" / str(message.audio_path)
    assert stored.read_bytes() == (MESSAGES / "ada.wav").read_bytes()
    assert message.transcript_status == "done" and message.transcript.strip()
    assert history(app, message.id)[:3] == ["left", "audio stored", "transcribed"]


def test_without_the_right_credentials_nothing_is_fetched(app: Flask) -> None:
    play(app, "message_hangup_during_recording.yaml")
    app.config["TWILIO_AUTH_TOKEN"] = "not-the-token"
    worker(app).run_once()
    [message] = messages(app)
    assert message.audio_status == "pending" and "401" in message.audio_error
    clip = media.server().clip(message.recording_sid)
    assert clip is not None and clip.refused == 1
    # The media server itself refuses a request without credentials, as Twilio does.
    assert requests.get(message.recording_url + ".wav", timeout=5).status_code == 401


def test_two_workers_never_work_on_one_message_at_once(app: Flask) -> None:
    play(app, "message_hangup_during_recording.yaml")
    [message] = messages(app)
    first, second = worker(app), worker(app)
    now = dt.datetime.now(dt.UTC)
    assert first._claim(message.id, now) is True
    assert second._claim(message.id, now) is False


def test_retention_deletes_old_audio_and_keeps_the_message(app: Flask) -> None:
    play(app, "message_hangup_during_recording.yaml")
    work = worker(app)
    work.run_once()
    work.run_once()
    [message] = messages(app)
    stored = Path(app.config["DATA_DIR"]) / "recordings" / str(message.audio_path)
    assert message.audio_status == "stored" and stored.exists()
    with app.app_context(), get_db().transaction() as session:
        old = dt.datetime.now(dt.UTC) - dt.timedelta(days=91)
        session.execute(update(Message).values(created_at=old))
    app.config["AUDIO_RETENTION_DAYS"] = 90
    assert work.apply_retention(dt.datetime.now(dt.UTC)) == 1
    [message] = messages(app)
    assert (message.audio_status, message.audio_path, message.transcript_status) == ("deleted", None, "done")
    assert not stored.exists() and "audio deleted" in history(app, message.id)


def test_the_callback_storm_on_several_gunicorn_workers_makes_one_message(server: str, tmp_path: Path) -> None:
    transport = HttpTransport(server, TOKEN)
    call = SimulatedCall(transport, "+15550100001").dial()
    sid = "RE" + "5" * 32
    url = media.server().publish(MESSAGES / "ada.wav", call.account_sid, TOKEN, sid)
    params = {**call._base_params(first=False), "RecordingSid": sid, "RecordingUrl": url,
              "RecordingStatus": "completed", "RecordingDuration": "13"}  # fmt: skip
    with ThreadPoolExecutor(5) as pool:
        replies = list(pool.map(lambda _: HttpTransport(server, TOKEN).post("/voice/recording", params), range(5)))
    assert [r.status for r in replies] == [200] * 5
    with sqlite3.connect(tmp_path / "server.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM messages WHERE recording_sid = ?", (sid,)).fetchone() == (1,)


def test_a_failing_transcription_is_retried_visibly_then_marked_failed(app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ivr import worker as worker_module

    class Broken:
        def recognize(self, audio, phrases=None):  # type: ignore[no-untyped-def]
            raise RuntimeError("the recogniser ran out of memory")

    play(app, "message_hangup_during_recording.yaml")
    monkeypatch.setattr(worker_module.speech, "get", lambda choice: Broken())
    work, now = worker(app), dt.datetime.now(dt.UTC)
    work.run_once(now)
    [message] = messages(app)
    assert (message.audio_status, message.transcript_status, message.transcript_attempts) == ("stored", "pending", 1)
    assert "out of memory" in message.transcript_error
    for _attempt in range(2, worker_module.TRANSCRIPT_ATTEMPTS + 1):
        now += dt.timedelta(hours=2)
        work.run_once(now)
    [message] = messages(app)
    assert (message.transcript_status, message.transcript_attempts) == ("failed", worker_module.TRANSCRIPT_ATTEMPTS)
    assert message.next_try_at is None and message.status == "new"  # still in the queue, audio and all


def test_the_callback_storm_scenario_leaves_one_message(app: Flask) -> None:
    play(app, "message_callback_storm.yaml")
    [message] = messages(app)
    assert message.caller == "+15550100003" and message.status == "new"


def test_a_verified_caller_leaves_a_message_with_their_account(app: Flask) -> None:
    app.config["CLOCK"] = "2026-11-24T21:00:00-05:00"
    call = SimulatedCall(FlaskTransport(app, TOKEN), "+15550100002").dial()
    call.press("1")
    call.press("2468#")
    call.hears("Thank you, Grace")
    call.press("9")
    call.press("0")
    call.press("1")
    call.record(MESSAGES / "grace.wav")
    call.press("3")
    call.hears("Your message has been sent")
    [message] = messages(app)
    assert message.customer_id == 2 and message.reason == "out_of_hours"
    assert message.path[:3] == ["main_menu: account", "pin_entry: ****", "account_menu: main_menu"]


def long_message(tmp_path: Path, seconds: float = 50.0) -> Path:
    """A message of about `seconds`: Ada's message again and again, with pauses."""
    samples, rate = soundfile.read(MESSAGES / "ada.wav", dtype="float32")
    pause = np.random.default_rng(5).normal(0, 0.002, rate).astype("float32")
    parts = [samples, pause] * int(seconds // (len(samples) / rate + 1) + 1)
    path = tmp_path / "long.wav"
    soundfile.write(path, np.concatenate(parts), rate, subtype="ULAW")
    return path


def leave(app: Flask, clip: Path, tmp_path: Path) -> None:
    scenario = (SCENARIOS / "message_out_of_hours.yaml").read_text().replace("../fixtures/messages/ada.wav", str(clip))
    (tmp_path / "leave.yaml").write_text(scenario)
    play(app, str(tmp_path / "leave.yaml"))


@pytest.mark.slow  # about 20 to 50 s: `make test-slow`, which CI runs too
def test_messages_are_transcribed_side_by_side_with_each_words_confidence(app: Flask, tmp_path: Path) -> None:
    leave(app, long_message(tmp_path, 70.0), tmp_path)
    leave(app, MESSAGES / "grace.wav", tmp_path)
    work = worker(app)
    assert work.threads >= 2 or os.cpu_count() == 1
    work.threads = 2
    start = dt.datetime.now(dt.UTC)
    work.run_once(start)  # both copied, both transcribed, on two threads
    long, short = messages(app)
    assert (long.transcript_status, short.transcript_status) == ("done", "done")
    with app.app_context(), get_db().reading() as session:
        transcribed = list(session.scalars(
            select(MessageHistory.message_id).where(MessageHistory.action == "transcribed").order_by(MessageHistory.id)
        ))  # fmt: skip
    assert transcribed == [short.id, long.id]  # the short one was not kept waiting for the long one
    for message in (long, short):
        words = message.transcript_words
        assert [w for w, _ in words] == message.transcript.split() and len(words) > 10
        assert all(0.0 <= c <= 1.0 for _, c in words)
        assert len({c for _, c in words}) > 3  # real confidences, not one figure for every word


def test_one_thread_still_works_through_every_message(app: Flask, tmp_path: Path) -> None:
    leave(app, MESSAGES / "grace.wav", tmp_path)
    leave(app, MESSAGES / "ada.wav", tmp_path)
    with app.app_context():
        work = Worker(get_db(), app.config, threads=1)
    assert work.run_once(dt.datetime.now(dt.UTC)) == 2
    assert [m.transcript_status for m in messages(app)] == ["done", "done"]
