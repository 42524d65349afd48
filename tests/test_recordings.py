"""Recordings come only from Twilio: what a signed report carries cannot choose the host the worker
contacts with the account's credentials, a file name, or a link on an agent's page."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from ivr import recordings
from ivr.db import get_db
from ivr.messages.audio_store import Folder
from ivr.models import Message
from ivr.recordings import problem
from ivr.worker import DOWNLOAD_ATTEMPTS, Worker
from tests.conftest import make_app
from tests.helpers import message, post, twilio_params

ACCOUNT = "AC" + "a1" * 16
RECORDING = "RE" + "b2" * 16
TWILIO_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING}"
WAV = (Path(__file__).parent / "fixtures" / "messages" / "ada.wav").read_bytes()


# ---- which URLs are Twilio's ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        TWILIO_URL,
        TWILIO_URL + ".wav",
        f"https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING}",
    ],
)
def test_twilio_recording_urls_are_taken(url: str) -> None:
    assert problem(url, ACCOUNT, {}) is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        (TWILIO_URL.replace("https:", "http:"), "not a Twilio API host"),
        (TWILIO_URL.replace("api.twilio.com", "api.twilio.com.evil.example"), "not a Twilio API host"),
        (TWILIO_URL.replace("api.twilio.com", "evil.example"), "not a Twilio API host"),
        (TWILIO_URL.replace("api.twilio.com", "127.0.0.1:5000"), "not a Twilio API host"),
        (TWILIO_URL.replace("api.twilio.com", "api.twilio.com:8443"), "not a Twilio API host"),
        (TWILIO_URL.replace("https://", "https://user:pass@"), "credentials"),
        (TWILIO_URL + "?x=1", "a query"),
        (TWILIO_URL.replace(ACCOUNT, "AC" + "c3" * 16), "another account"),
        (TWILIO_URL.replace(RECORDING, "../../../../tmp/x"), "path is not"),
        ("https://api.twilio.com/2010-04-01/Accounts/" + ACCOUNT + "/Calls", "path is not"),
        ("javascript:alert(document.domain)//", "not a Twilio API host"),
        ("http://127.0.0.1:5000/agent/api/messages", "not a Twilio API host"),
        ("https://api.twilio.com:notaport/x", "cannot be read"),
    ],
)
def test_anything_else_is_refused(url: str, why: str) -> None:
    assert why in (problem(url, ACCOUNT, {}) or "")


def test_account_sids_must_be_twilios() -> None:
    for account in ("", "ACé" + "a" * 31, "AC" + "a" * 31, ACCOUNT + "\n", "../" + ACCOUNT):
        assert "account SID" in (problem(TWILIO_URL.replace(ACCOUNT, account), account, {}) or "")


def test_listed_media_hosts_may_use_http_and_a_given_port() -> None:
    local = f"http://127.0.0.1:8080/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING}"
    assert problem(local, ACCOUNT, {"TWILIO_MEDIA_HOSTS": "127.0.0.1"}) is None
    assert problem(local, ACCOUNT, {"TWILIO_MEDIA_HOSTS": "media.test, 127.0.0.1:8080"}) is None
    assert problem(local, ACCOUNT, {"TWILIO_MEDIA_HOSTS": "127.0.0.1:9090"}) is not None
    assert problem(local, ACCOUNT, {}) is not None


# ---- the worker against servers of its own ------------------------------------------------------


class Recorder(BaseHTTPRequestHandler):
    """A local server that keeps every request it got (path, Authorization) and answers as told."""

    got: list[tuple[str, str]]
    answer: str  # "wav", "slow", or "redirect:<url>"

    def do_GET(self) -> None:  # noqa: N802
        self.got.append((self.path, self.headers.get("Authorization", "")))
        if self.answer.startswith("redirect:"):
            self.send_response(302)
            self.send_header("Location", self.answer[len("redirect:") :])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "audio/x-wav")
        self.send_header("Content-Length", str(len(WAV)))
        self.end_headers()
        if self.answer == "slow":
            for byte in WAV[:200]:  # a byte every 0.1 s: far slower than the deadline allows
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.1)
            return
        self.wfile.write(WAV)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[tuple[str, str]], type[Recorder]]]:
    handler = type("Handler", (Recorder,), {"got": [], "answer": "wav"})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{httpd.server_address[1]}", handler.got, handler
    httpd.shutdown()
    httpd.server_close()


def message_at(app: Flask, url: str, account: str = ACCOUNT) -> int:
    """A message whose recording URL is `url`, as a row made before these checks could have left it."""
    with app.app_context(), get_db().transaction() as session:
        message = Message(recording_sid="RE" + secrets.token_hex(16), call_sid="CA" + secrets.token_hex(16),
                          account_sid=account, recording_url=url, duration_seconds=5,
                          next_try_at=dt.datetime.now(dt.UTC))  # fmt: skip
        session.add(message)
        session.flush()
        return message.id


def work_until_done(app: Flask, message_id: int) -> Message:
    worker = Worker(app.extensions["ivr.db"], app.config)
    for _ in range(DOWNLOAD_ATTEMPTS + 1):
        with app.app_context(), get_db().transaction() as session:
            session.get(Message, message_id).next_try_at = dt.datetime.now(dt.UTC)  # no pause between tries
        worker.run_once()
        if message(app, message_id).audio_status != "pending":
            break
    return message(app, message_id)


def test_a_server_not_on_the_media_host_list_is_never_contacted(app: Flask, server) -> None:  # type: ignore[no-untyped-def]
    host, got, _handler = server
    app.config["TWILIO_MEDIA_HOSTS"] = "media.example"
    message_id = message_at(app, f"http://{host}/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING}")
    done = work_until_done(app, message_id)
    assert got == []  # nothing fetched, so no credentials sent
    assert done.audio_status == "failed" and done.audio_attempts == DOWNLOAD_ATTEMPTS
    assert "not a Twilio API host" in done.audio_error


def test_a_listed_server_gets_the_credentials_and_the_file_gets_the_apps_name(app: Flask, server) -> None:  # type: ignore[no-untyped-def]
    host, got, _handler = server
    message_id = message_at(app, f"http://{host}/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING}")
    done = work_until_done(app, message_id)
    assert done.audio_status == "stored" and done.audio_path == f"message-{message_id}.wav"
    assert (Path(app.config["DATA_DIR"]) / "recordings" / done.audio_path).read_bytes() == WAV
    assert len(got) == 1 and got[0][1].startswith("Basic ")


def test_a_redirect_to_another_host_is_not_followed(app: Flask, server) -> None:  # type: ignore[no-untyped-def]
    host, got, handler = server
    elsewhere = ThreadingHTTPServer(("127.0.0.1", 0), type("Elsewhere", (Recorder,), {"got": [], "answer": "wav"}))
    threading.Thread(target=elsewhere.serve_forever, daemon=True).start()
    try:
        handler.answer = f"redirect:http://127.0.0.1:{elsewhere.server_address[1]}/steal"
        app.config["TWILIO_MEDIA_HOSTS"] = host  # this port only
        message_id = message_at(app, f"http://{host}/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING}")
        Worker(app.extensions["ivr.db"], app.config).run_once()
        assert message(app, message_id).audio_status == "pending"
        assert "redirect" in message(app, message_id).audio_error
        assert elsewhere.RequestHandlerClass.got == []  # type: ignore[attr-defined]
    finally:
        elsewhere.shutdown()
        elsewhere.server_close()


def test_a_slow_sender_cannot_hold_the_worker(app: Flask, server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    host, _got, handler = server
    handler.answer = "slow"
    monkeypatch.setattr(recordings, "DEADLINE_SECONDS", 1)
    message_id = message_at(app, f"http://{host}/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING}")
    started = time.monotonic()
    Worker(app.extensions["ivr.db"], app.config).run_once()
    assert time.monotonic() - started < 5  # the sender would take 20 s
    assert "took longer than 1 s" in message(app, message_id).audio_error


def test_an_account_sid_that_cannot_be_sent_still_reaches_failed(app: Flask) -> None:
    message_id = message_at(app, TWILIO_URL.replace(ACCOUNT, "ACé" + "a" * 31), account="ACé" + "a" * 31)
    done = work_until_done(app, message_id)
    assert done.audio_status == "failed" and "account SID" in done.audio_error


# ---- at the webhook ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("RecordingUrl", "http://127.0.0.1:5000/agent/api/messages"),
        ("RecordingUrl", "javascript:alert(document.domain)//"),
        ("RecordingSid", "../../../../tmp/owned"),
        ("AccountSid", "ACé" + "a" * 31),
    ],
)
def test_a_recording_report_that_is_not_twilios_makes_no_message(app: Flask, field: str, value: str, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.WARNING)
    client = app.test_client()
    call = "CA" + secrets.token_hex(16)
    report = {"RecordingSid": RECORDING, "RecordingUrl": TWILIO_URL, "RecordingStatus": "completed",
              "RecordingDuration": "7", "AccountSid": ACCOUNT, field: value}  # fmt: skip
    response = post(client, "/voice/recording", twilio_params(call, **report))
    assert response.status_code == 200 and response.mimetype == "text/xml"
    with app.app_context(), get_db().reading() as session:
        assert session.scalars(select(Message)).all() == []
    assert "recording report refused" in caplog.text


def test_the_same_report_from_twilio_makes_the_message(app: Flask) -> None:
    client = app.test_client()
    call = "CA" + secrets.token_hex(16)
    report = {"RecordingSid": RECORDING, "RecordingUrl": TWILIO_URL, "RecordingStatus": "completed",
              "RecordingDuration": "7", "AccountSid": ACCOUNT}  # fmt: skip
    assert post(client, "/voice/recording", twilio_params(call, **report)).status_code == 200
    with app.app_context(), get_db().reading() as session:
        [made] = session.scalars(select(Message)).all()
        assert (made.recording_url, made.account_sid, made.duration_seconds) == (TWILIO_URL, ACCOUNT, 7)


@pytest.fixture
def agents(tmp_path: Path, template_db: Path) -> Iterator[Flask]:
    from tests.helpers import PASSWORD

    app = make_app(tmp_path, template_db, SECRET_KEY="test-secret-key")
    assert app.test_cli_runner().invoke(args=["agents", "create", "ann"], input=PASSWORD + "\n").exit_code == 0
    yield app
    app.extensions["ivr.db"].engine.dispose()


def test_a_stored_url_that_is_not_a_web_address_is_no_link(agents: Flask) -> None:
    from tests.helpers import login

    message_id = message_at(agents, "javascript:alert(document.domain)//")
    page = login(agents).get(f"/agent/messages/{message_id}").get_data(as_text=True)
    assert "The audio is on its way from Twilio" in page and 'href="javascript' not in page


def test_only_files_the_worker_named_are_served(agents: Flask, tmp_path: Path) -> None:
    from tests.helpers import login

    (tmp_path / "outside.wav").write_bytes(WAV)
    message_id = message_at(agents, TWILIO_URL)
    with agents.app_context(), get_db().transaction() as session:
        row = session.get(Message, message_id)
        row.audio_status, row.audio_path = "stored", "../../outside.wav"
    assert login(agents).get(f"/agent/messages/{message_id}/audio").status_code == 404


def test_the_recordings_folder_keeps_reads_and_deletes_only_its_own_files(tmp_path: Path) -> None:
    store = Folder(tmp_path / "recordings")
    (tmp_path / "secret.wav").write_bytes(b"not a message")
    name = store.keep(7, WAV)
    assert name == "message-7.wav" and store.read(name) == WAV
    for outside in ("../secret.wav", str(tmp_path / "secret.wav"), "", "nothing.wav"):
        assert store.read(outside) is None, outside
        store.delete(outside)
    assert (tmp_path / "secret.wav").exists()
    store.delete(name)
    assert store.read(name) is None and not (tmp_path / "recordings" / name).exists()
