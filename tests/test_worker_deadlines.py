"""Deadlines on every byte, and no job waiting for another (issue 29): a media host that trickles its
headers a byte at a time is cut off at the download's deadline, and while it trickles, the worker
copies and transcribes the other messages and tells the team; a webhook that never answers holds no
download. Real local servers in threads, the real database."""

from __future__ import annotations

import datetime as dt
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from ivr import recordings
from ivr.db import get_db
from ivr.messages import notify
from ivr.models import Message, MessageHistory, Notification, as_utc
from ivr.worker import LEASE, TEXT_TIMEOUT_SECONDS, Worker
from tests.helpers import message

ACCOUNT = "AC" + "a1" * 16
WAV = (Path(__file__).parent / "fixtures" / "messages" / "ada.wav").read_bytes()
# The start of a TLS handshake record that announces 16 KB, which then comes a byte at a time.
TLS_RECORD = b"\x16\x03\x03\x40\x00"


class Host:
    """A TCP server that reads what a client sends, answers `opening`, then a byte every half second
    (or, with trickle=False, nothing more) until it is closed."""

    def __init__(self, opening: bytes, trickle: bool = True) -> None:
        self.opening, self.trickle = opening, trickle
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.stopped = threading.Event()
        self.server = threading.Thread(target=self._serve, daemon=True)
        self.server.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.connections.append(connection)
            threading.Thread(target=self._talk, args=(connection,), daemon=True).start()

    def _talk(self, connection: socket.socket) -> None:
        try:
            connection.recv(65536)  # the request (or the TLS client's hello)
            connection.sendall(self.opening)
            while not self.stopped.wait(0.5):
                if self.trickle:
                    connection.sendall(b"x")
        except OSError:  # closed by the client, or by close()
            pass

    def close(self) -> None:
        self.stopped.set()
        self.server.join()
        self.listener.close()
        for connection in self.connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()


@pytest.fixture
def hosts() -> Iterator[Callable[..., Host]]:
    made: list[Host] = []

    def host(opening: bytes, trickle: bool = True) -> Host:
        made.append(Host(opening, trickle))
        return made[-1]

    yield host
    for each in made:
        each.close()


class Media(BaseHTTPRequestHandler):
    """A media host that sends the recording at once."""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "audio/x-wav")
        self.send_header("Content-Length", str(len(WAV)))
        self.end_headers()
        self.wfile.write(WAV)

    def do_POST(self) -> None:  # noqa: N802  (the team's webhook)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def media() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Media)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def worker(app: Flask) -> Iterator[Worker]:
    """A worker of one thread a lane at least (the lanes, not the threads, keep jobs apart)."""
    work = Worker(app.extensions["ivr.db"], app.config, threads=1)
    yield work
    work.close()


def url(port: int, scheme: str = "http") -> str:
    return f"{scheme}://127.0.0.1:{port}/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE{secrets.token_hex(16)}"


def message_at(app: Flask, recording_url: str, told: bool = False, language: str = "en-US") -> int:
    """A message due now whose recording is at `recording_url` (with a notification to the team due now)."""
    with app.app_context(), get_db().transaction() as session:
        message = Message(recording_sid="RE" + secrets.token_hex(16), call_sid="CA" + secrets.token_hex(16),
                          account_sid=ACCOUNT, recording_url=recording_url, duration_seconds=5,
                          language=language, next_try_at=dt.datetime.now(dt.UTC))  # fmt: skip
        session.add(message)
        session.flush()
        if told:
            session.add(Notification(message_id=message.id, channel="webhook", next_try_at=dt.datetime.now(dt.UTC)))
        return message.id


def notification(app: Flask, message_id: int) -> Notification:
    with app.app_context(), get_db().reading() as session:
        found = session.query(Notification).filter_by(message_id=message_id).one()
        session.expunge(found)
        return found


def history(app: Flask, message_id: int) -> dict[str, dt.datetime]:
    """When each thing happened to a message (its history: action -> time)."""
    with app.app_context(), get_db().reading() as session:
        rows = session.scalars(select(MessageHistory).where(MessageHistory.message_id == message_id))
        return {row.action: as_utc(row.at) for row in rows}


def until(done: Callable[[], bool], seconds: float) -> float:
    """Seconds until `done()` (polled every 50 ms), failing after `seconds`."""
    started = time.monotonic()
    while not done():
        assert time.monotonic() - started < seconds, "not in time"
        time.sleep(0.05)
    return time.monotonic() - started


# ---- the download's deadline: connecting, the handshake, the headers, the body, every redirect --------


@pytest.mark.parametrize(
    ("scheme", "opening"),
    [("http", b"HTTP/1.1 200 OK\r\n"), ("https", TLS_RECORD)],
    ids=["headers", "tls-handshake"],
)
def test_a_host_trickling_before_the_body_is_cut_off_at_the_deadline(  # type: ignore[no-untyped-def]
    app: Flask, hosts, worker: Worker, monkeypatch, scheme: str, opening: bytes
) -> None:
    monkeypatch.setattr(recordings, "DEADLINE_SECONDS", 1)
    trickler = hosts(opening)  # a byte every 0.5 s, forever: no read ever waits long
    message_id = message_at(app, url(trickler.port, scheme))
    started = time.monotonic()
    assert worker.run_once() == 1
    assert time.monotonic() - started < 3
    cut = message(app, message_id)
    assert (cut.audio_status, cut.audio_attempts) == ("pending", 1)
    assert cut.audio_error == "the download took longer than 1 s"
    assert cut.next_try_at is not None  # tried again later, with the usual pause
    assert cut.next_try_at.replace(tzinfo=dt.UTC) > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10)


def test_the_deadline_holds_for_all_redirects_together(app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    class Slow(BaseHTTPRequestHandler):
        """Each answer in 0.6 s, well within a read timeout: a redirect to itself, again and again."""

        def do_GET(self) -> None:  # noqa: N802
            time.sleep(0.6)
            self.send_response(302)
            self.send_header("Location", self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(recordings, "DEADLINE_SECONDS", 1)
        started = time.monotonic()
        with pytest.raises(recordings.RecordingRefused, match="took longer than 1 s"):
            recordings.fetch(url(httpd.server_address[1]), ACCOUNT, "token", app.config)
        assert time.monotonic() - started < 2  # not the four hops' 2.4 s
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_every_jobs_deadline_is_shorter_than_the_lease_its_claim_takes() -> None:
    # A job still running is never claimed again (by this worker or another) while its lease lasts.
    for seconds in (recordings.DEADLINE_SECONDS, notify.SEND_DEADLINE_SECONDS, TEXT_TIMEOUT_SECONDS):
        assert 0 < seconds < LEASE.total_seconds() / 2


# ---- no job waits for another ------------------------------------------------------------------------


def test_a_pass_copies_transcribes_and_tells_while_another_host_trickles_its_headers(  # type: ignore[no-untyped-def]
    app: Flask, hosts, media: int, worker: Worker, monkeypatch
) -> None:
    """The issue's case. When things happened is read from what the worker wrote (the history, the
    notifications' sent_at), not watched from this thread: PocketSphinx keeps Python's GIL while it
    transcribes, and this thread might not get to look for a few seconds."""
    monkeypatch.setattr(recordings, "DEADLINE_SECONDS", 8)
    app.config["NOTIFY_WEBHOOK_URL"] = f"http://127.0.0.1:{media}/hook"
    trickler = hosts(b"HTTP/1.1 200 OK\r\n")  # then a header byte every 0.5 s, forever
    slow = message_at(app, url(trickler.port), told=True)  # first in line
    normal = message_at(app, url(media), told=True)
    begun, started = dt.datetime.now(dt.UTC), time.monotonic()
    assert worker.run_once(wait=False) == 4  # two downloads and two notifications started
    assert time.monotonic() - started < 8  # the pass did not wait for the slow download
    worker.wait()  # until the slow download's deadline
    assert time.monotonic() - started >= 8
    cut = message(app, slow)
    assert (cut.audio_status, cut.audio_attempts, cut.audio_error) == (
        "pending",
        1,
        "the download took longer than 8 s",
    )
    # Meanwhile the other message was copied at once and transcribed, and the team was told of both.
    done = message(app, normal)
    assert (done.audio_status, done.transcript_status) == ("stored", "done") and done.transcript.strip()
    when = history(app, normal)
    assert when["audio stored"] - begun < dt.timedelta(seconds=2)
    assert when["transcribed"] - begun < dt.timedelta(seconds=8)  # before the slow download's deadline
    for told in (slow, normal):
        sent = notification(app, told)
        assert sent.status == "sent" and sent.sent_at is not None
        assert as_utc(sent.sent_at) - begun < dt.timedelta(seconds=2)


def test_a_webhook_that_never_answers_holds_no_download(  # type: ignore[no-untyped-def]
    app: Flask, hosts, media: int, worker: Worker
) -> None:
    silent = hosts(b"", trickle=False)  # takes the POST, never answers (notify's timeout: 15 s a read)
    app.config["NOTIFY_WEBHOOK_URL"] = f"http://127.0.0.1:{silent.port}/hook"
    told = message_at(app, url(media), told=True)
    with app.app_context(), get_db().transaction() as session:
        session.get(Message, told).next_try_at = None  # only its notification is due
    copied = message_at(app, url(media), language="lv-LV")  # no model hears it: copied, not transcribed
    started = time.monotonic()
    assert worker.run_once(wait=False) == 2
    until(lambda: message(app, copied).audio_status == "stored", 3)
    assert notification(app, told).attempts == 0  # still waiting for the webhook's answer
    silent.close()  # the webhook hangs up: the send fails, and is tried again later
    worker.wait()
    assert time.monotonic() - started < notify.TIMEOUT_SECONDS
    failed = notification(app, told)
    assert (failed.status, failed.attempts) == ("pending", 1) and failed.error


def test_transcriptions_waiting_never_keep_a_new_recording_from_being_copied(app: Flask) -> None:
    now = dt.datetime.now(dt.UTC)
    with app.app_context(), get_db().transaction() as session:
        waiting = [
            Message(recording_sid="RE" + secrets.token_hex(16), call_sid="CA" + secrets.token_hex(16),
                    account_sid="AC" + "a1" * 16, recording_url="", duration_seconds=5, audio_status="stored",
                    audio_path=f"message-{n}.wav", next_try_at=now - dt.timedelta(hours=1))
            for n in range(60)
        ]  # fmt: skip
        new = Message(recording_sid="RE" + secrets.token_hex(16), call_sid="CA" + secrets.token_hex(16),
                      account_sid="AC" + "a1" * 16, recording_url="", duration_seconds=5, next_try_at=now)  # fmt: skip
        session.add_all([*waiting, new])
        session.flush()
        new_id = new.id
    with app.app_context():
        due = Worker(get_db(), app.config, catalog=app.extensions["ivr.catalog"])._due(now)
    assert ("download", new_id) in due  # behind 60 older transcriptions, still among the pass's jobs
    assert sum(kind == "transcribe" for kind, _ in due) == 50


@pytest.mark.parametrize("channel", ["email", "webhook"])
def test_a_send_to_the_team_ends_at_its_deadline_however_slowly_the_other_side_answers(  # type: ignore[no-untyped-def]
    hosts, monkeypatch, channel: str
) -> None:
    monkeypatch.setattr(notify, "SEND_DEADLINE_SECONDS", 1)
    if channel == "email":
        slow = hosts(b"", trickle=False)  # a mail server that takes the connection and never greets
        settings = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": slow.port, "NOTIFY_EMAIL": "team@example.com"}
        what = "the mail server"
    else:
        slow = hosts(b"HTTP/1.1 200 OK\r\n")  # a webhook that trickles its headers, a byte every half second
        settings = {"NOTIFY_WEBHOOK_URL": f"http://127.0.0.1:{slow.port}/hook"}
        what = "the webhook"
    said = {"customer": None, "caller": "", "reason": "a question", "duration_seconds": 5, "left_at": "now",
            "language": "en-US", "transcript": "", "transcript_note": "", "link": "http://desk/1", "message_id": 1}  # fmt: skip
    started = time.monotonic()
    with pytest.raises(notify.NotSent, match=f"{what} took longer than 1 s"):
        notify.send(channel, said, settings)
    assert time.monotonic() - started < 3  # not the 15 s a read of its own timeout
