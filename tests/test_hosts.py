"""Two app hosts behind nginx on one PostgreSQL, as deploy/ sets them up (tests/cluster.py starts it all):
calls whose steps alternate between the hosts, one host killed with kill -9 in the middle of calls,
a message copied by one host's worker played by an agent on the other, notifications and insights
counted once.

Skipped only where nginx, openssl or PostgreSQL's server cannot be had: `make test` installs them as root.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import soundfile
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, create_engine, func, select

from ivr.models import Call, InsightDay, Message, Notification
from ivr.simulator import media
from ivr.simulator.phone import SimulatedCall
from ivr.simulator.transport import HttpTransport
from tests.cluster import ROOT, Host, Nginx, free_port, nginx_binary
from tests.conftest import TOKEN
from tests.helpers import CLOSED, PASSWORD, Inbox, postgres_url, write_clip

__all__ = ["postgres_url"]
FLASK = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi"]


@pytest.fixture
def tools() -> None:
    if nginx_binary() is None:
        pytest.skip("nginx is not installed (make test installs Debian's nginx when run as root)")
    if subprocess.run(["which", "openssl"], capture_output=True).returncode != 0:
        pytest.skip("openssl is not installed (make test installs it when run as root)")


def until(what: Callable[[], bool], seconds: float, why: str) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {why}")
        time.sleep(0.2)


def count(engine: Engine, query) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(query.subquery())) or 0


class Line:
    """The test's view of the line: PostgreSQL, the hosts, nginx, the team's mailbox, callers' clips."""

    def __init__(self, url: str, folder: Path, inbox: Inbox, smtp_port: int) -> None:
        self.db = create_engine(url)
        self.folder, self.inbox = folder, inbox
        self.nginx = Nginx(folder / "nginx", [])
        self.env = {
            **os.environ, "IVR_DATABASE_URL": url, "IVR_TWILIO_AUTH_TOKEN": TOKEN, "IVR_SECRET_KEY": "one line, two hosts",
            "IVR_PROXY_HOPS": "1", "IVR_TWILIO_MEDIA_HOSTS": f"127.0.0.1:{media.server().port}", "IVR_CLOCK": CLOSED,
            "IVR_NOTIFY_EMAIL": "team@example.com", "IVR_SMTP_HOST": "127.0.0.1", "IVR_SMTP_PORT": str(smtp_port),
            "IVR_SMTP_STARTTLS": "false", "IVR_MAIL_FROM": "ivr@example.com", "IVR_NOTIFY_DELAY_SECONDS": "0",
            "IVR_AUDIO_RETENTION_DAYS": "0",
        }  # fmt: skip
        self.a = Host("A", folder / "a", self.env, self.nginx.url)
        self.b = Host("B", folder / "b", self.env, self.nginx.url)
        self.nginx.hosts = [self.a, self.b]
        self.clips: dict[str, Path] = {}  # RecordingSid -> the clip the caller recorded

    def transport(self) -> HttpTransport:
        transport = HttpTransport(self.nginx.url, TOKEN)
        transport.session = self.nginx.session()
        return transport

    def order_call(self, caller: str, between: Callable[[], None] = lambda: None) -> None:
        call = SimulatedCall(self.transport(), caller=caller).dial()
        call.press("2")
        between()
        call.press("5001#")
        call.hears("Order 5 0 0 1")
        call.hangup()

    def message_call(self, caller: str, seconds: float, between: Callable[[], None] = lambda: None) -> None:
        clip = write_clip(self.folder / f"{caller}.wav", seconds)
        call = SimulatedCall(self.transport(), caller=caller).dial()
        call.press("0")
        between()
        call.press("1")
        call.record(clip, then_hangup=True)
        self.clips[call.recordings[-1].rsplit("/", 1)[1]] = clip

    def messages_done(self) -> bool:
        """Every message copied and transcribed, and the team told of it."""
        return (
            count(self.db, select(Message.id).where(Message.transcript_status != "done")) == 0
            and count(self.db, select(Notification.id).where(Notification.status != "sent")) == 0
        )

    def stop(self) -> None:
        self.nginx.stop()
        for host in (self.a, self.b):
            host.stop()
        self.db.dispose()


@pytest.fixture
def line(tools: None, postgres_url: str, tmp_path: Path) -> Iterator[Line]:
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    line = Line(postgres_url, tmp_path, inbox, smtp.port)
    try:
        yield line
    finally:
        line.stop()
        smtp.stop()


def test_two_hosts_behind_nginx_serve_one_line(line: Line) -> None:
    a, b, nginx = line.a, line.b, line.nginx
    # Both hosts boot at once: the database is upgraded once, under its lock; the demo is loaded when asked.
    booting = [a.prepare(), b.prepare()]
    said = [process.communicate(timeout=120)[0] for process in booting]
    assert [process.returncode for process in booting] == [0, 0], said
    seeded = subprocess.run([*FLASK, "seed"], cwd=ROOT, env=line.env, capture_output=True, text=True)
    assert seeded.returncode == 0, seeded.stderr
    created = subprocess.run([*FLASK, "agents", "create", "ann"], cwd=ROOT, env=line.env, input=PASSWORD + "\n",
                             capture_output=True, text=True)  # fmt: skip
    assert created.returncode == 0, created.stderr

    # Host A alone (B is listed but down: nginx passes over it): a message, copied by A's worker.
    for unit in ("ivr-phone", "ivr-desk", "ivr-worker"):
        a.start(unit)
    a.serving()
    nginx.start()
    line.message_call("+15550300001", 1.5)
    until(line.messages_done, 60, "host A's worker copies, transcribes and tells of the first message")

    # Host B joins: one caller's steps alternate between the hosts.
    for unit in ("ivr-phone", "ivr-desk", "ivr-worker"):
        b.start(unit)
    b.serving()
    time.sleep(5.5)  # B's fail_timeout (deploy/nginx/ivr-hosts.conf) since nginx found it down
    line.order_call("+15550100001")  # nginx's round robin takes B in again
    seen = len(nginx.upstreams())
    line.order_call("+15550100001")
    time.sleep(0.5)  # nginx logs a request once its answer has gone
    steps = [address for address, path, _status in nginx.upstreams()[seen:] if path.startswith("/voice/")]
    ports = {host.ports["ivr-phone"]: host.name for host in (a, b)}
    served_by = [ports[int(address.rsplit(":", 1)[1])] for address in steps]
    assert len(served_by) >= 4 and all(x != y for x, y in itertools.pairwise(served_by)), served_by

    # Twelve callers at once, half leaving messages, with both hosts' workers at work.
    batch = [Caller(line.message_call, f"+155503001{n:02d}", 1 + n / 10) for n in range(6)]
    batch += [Caller(line.order_call, f"+155503002{n:02d}") for n in range(6)]
    assert run_all(batch) == []
    until(line.messages_done, 120, "both workers copy, transcribe and tell of every message")

    # Host A dies (kill -9) in the middle of calls: each caller has taken a step, then A is killed, and
    # the calls go on through B; meanwhile other callers keep calling, some of their steps in flight.
    halfway = threading.Barrier(9)
    calls = [Caller(line.message_call, f"+155503003{n:02d}", 1.2, halfway.wait) for n in range(4)]
    calls += [Caller(line.order_call, f"+155503004{n:02d}", halfway.wait) for n in range(4)]
    stop, steady, steady_calls = threading.Event(), [], []

    def keep_calling(n: int) -> None:
        while not stop.is_set():
            try:
                line.order_call(f"+155503005{n:02d}")
            except Exception as error:  # noqa: BLE001 (said by the assertion below)
                steady.append(error)
            steady_calls.append(n)

    callers = [Caller(keep_calling, n) for n in range(2)]
    for caller in [*calls, *callers]:
        caller.start()
    halfway.wait(60)
    a.kill()
    assert joined(calls) == []
    time.sleep(1)
    stop.set()
    assert joined(callers) == [] and steady == []
    until(line.messages_done, 120, "host B's worker copies, transcribes and tells of the messages left after A died")

    # Every message's audio is in the database, none in a host's folder; an agent on B (the only host
    # left) plays each, the first copied by A's worker, and hears the caller's clip, sample for sample.
    assert not list(a.data.rglob("*.wav")) and not list(b.data.rglob("*.wav"))
    with line.db.connect() as connection:
        stored = connection.execute(select(Message.id, Message.recording_sid).order_by(Message.id)).all()
    assert len(stored) == len(line.clips) == 11
    agent = nginx.session()
    page = agent.get(f"{nginx.url}/agent/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    logged_in = agent.post(f"{nginx.url}/agent/login", data={"name": "ann", "password": PASSWORD,
                                                             "csrf_token": token.group(1)}, allow_redirects=False,
                             headers={"Referer": f"{nginx.url}/agent/login"})  # as a browser sends it over https  # fmt: skip
    assert logged_in.status_code == 302, logged_in.text
    for message_id, recording_sid in stored:
        played = agent.get(f"{nginx.url}/agent/messages/{message_id}/audio")
        assert played.status_code == 200
        heard, _rate = soundfile.read(io.BytesIO(played.content), dtype="int16")
        said, _rate = soundfile.read(line.clips[recording_sid], dtype="int16")
        assert (heard == said).all() and len(heard) == len(said)
    desk_ports = {str(host.ports["ivr-desk"]): host.name for host in (a, b)}
    played_on = {desk_ports[address.rsplit(":", 1)[1]] for address, path, status in nginx.upstreams()
                 if path.endswith("/audio") and status == 200}  # fmt: skip
    assert played_on == {"B"}

    # The team was told of each message once, though two workers watched the queue.
    assert len(line.inbox.mails) == 11
    assert sorted(told_of(mail) for mail in line.inbox.mails) == [message_id for message_id, _sid in stored]
    # Every call ended is in the insights once.
    until(lambda: count(line.db, select(Call.call_sid).where(Call.summarised.is_(False))) == 0, 60, "calls summarised")
    with line.db.connect() as connection:
        in_insights = connection.scalar(select(func.sum(InsightDay.calls)))
        made = connection.scalar(select(func.count()).select_from(Call))
    assert made == 1 + 2 + 12 + 8 + len(steady_calls) and in_insights == made
    # Nothing a caller did was answered with an error; nginx passed over host A once it died.
    assert not [row for row in nginx.upstreams() if row[1].startswith("/voice/") and row[2] != 200]
    assert "Traceback" not in b.log("ivr-phone") + b.log("ivr-worker") + b.log("ivr-desk")


class Caller(threading.Thread):
    """A caller in a thread of their own; what went wrong for them, if anything, in `failure`."""

    def __init__(self, call: Callable[..., None], *args: object) -> None:
        super().__init__(daemon=True)
        self.call, self.args_ = call, args
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            self.call(*self.args_)
        except BaseException as error:  # noqa: BLE001 (said by the test's assertion)
            self.failure = error


def run_all(callers: list[Caller]) -> list[BaseException]:
    for caller in callers:
        caller.start()
    return joined(callers)


def joined(callers: list[Caller]) -> list[BaseException]:
    for caller in callers:
        caller.join(120)
    return [caller.failure for caller in callers if caller.failure is not None]


def told_of(mail: bytes) -> int:
    """The message a notification mail links to."""
    found = re.search(r"/agent/messages/(\d+)", message_from_bytes(mail, policy=policy.default).get_content())  # type: ignore[attr-defined]
    assert found is not None
    return int(found.group(1))
