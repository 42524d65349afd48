"""'Shall I text you the link?': offered after an order status, a product or an answer, to a number
that can take a text, once a call; sent by the worker through the twilio package to a local HTTP server
that receives what Twilio's Messages API would."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from flask import Flask
from sqlalchemy import select
from twilio.http.http_client import TwilioHttpClient

from ivr.db import get_db
from ivr.models import TextMessage
from ivr.simulator.phone import SimulatedCall
from ivr.simulator.transport import FlaskTransport
from ivr.worker import Worker
from tests.conftest import TOKEN, make_app

PUBLIC = "https://help.example.com"
SMS_FROM = "+14155550199"
ACCOUNT = "AC" + "1" * 32
SETTINGS = {"LANGUAGES": "en-US,fi-FI,lv-LV", "NUMBER_LANGUAGES": "+15550100000=en-US,+358900000000=fi-FI,+37160000000=lv-LV",
            "SMS_FROM": SMS_FROM, "PUBLIC_URL": PUBLIC, "TWILIO_ACCOUNT_SID": ACCOUNT}  # fmt: skip


class MessagesApi(BaseHTTPRequestHandler):
    """Twilio's Messages API as far as a text needs it: the form posted, a message resource back."""

    received: list[dict[str, object]]
    status = 201

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        form = {name: values[0] for name, values in parse_qs(body).items()}
        self.received.append({"path": self.path, "form": form, "auth": self.headers.get("Authorization", "")})
        reply = {"sid": "SM" + "2" * 32, "status": "queued", "to": form.get("To"), "from": form.get("From")}
        if self.status >= 400:
            reply = {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": self.status}
        data = json.dumps(reply).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        pass


class TwilioHere(TwilioHttpClient):
    """The twilio package's own HTTP client, sending to the local server instead of api.twilio.com."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def]
        return super().request(method, url.replace("https://api.twilio.com", self.base), *args, **kwargs)


@pytest.fixture
def twilio() -> Iterator[tuple[type[MessagesApi], str]]:
    handler = type("Api", (MessagesApi,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield handler, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def line(tmp_path: Path, template_db: Path) -> Iterator[Flask]:
    app = make_app(tmp_path, template_db, **SETTINGS)
    yield app
    app.extensions["ivr.db"].engine.dispose()


def dial(app: Flask, caller: str, to: str = "+15550100000") -> SimulatedCall:
    return SimulatedCall(FlaskTransport(app, TOKEN, base_url=PUBLIC), caller=caller, called=to).dial()


def texts(app: Flask) -> list[TextMessage]:
    with app.app_context(), get_db().reading() as session:
        return list(session.scalars(select(TextMessage).order_by(TextMessage.id)))


def work(app: Flask, base: str, later: float = 0) -> None:
    client = TwilioHere(base)
    try:
        with app.app_context():
            Worker(get_db(), app.config, threads=1, twilio_http=client).send_texts(
                dt.datetime.now(dt.UTC) + dt.timedelta(seconds=later)
            )
    finally:
        client.session.close()


def test_an_order_status_is_texted_once_accepted(line: Flask, twilio) -> None:  # type: ignore[no-untyped-def]
    api, base = twilio
    call = dial(line, "+14155550123")
    call.press("2")
    call.press("5001")
    call.hears("Order 5 0 0 1 has shipped")
    call.hears("Would you like a link to this by text message\\?")
    call.press("1")
    call.hears("I'll text you the link now\\.")
    call.hears("To check another order, press 1")  # and the call goes on where it was going
    assert len(api.received) == 0  # the call never waits for Twilio
    work(line, base)
    (sent,) = api.received
    assert sent["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert sent["form"] == {
        "To": "+14155550123",
        "From": SMS_FROM,
        "Body": f"Northwind: {PUBLIC}/help/orders?lang=en-US",
    }
    (text,) = texts(line)
    assert text.status == "sent" and text.twilio_sid == "SM" + "2" * 32 and text.attempts == 1
    # Once a call: another order, no second offer.
    call.press("1")
    call.press("5002")
    call.hears("Order 5 0 0 2 is being prepared")
    assert "text message" not in call.heard
    work(line, base)
    assert len(api.received) == 1


@pytest.mark.parametrize(
    ("caller", "to", "steps", "said", "link"),
    [
        ("+358401234567", "+358900000000", [("say", "paljonko vedenkeitin maksaa")], "Haluatko linkin tähän tekstiviestinä",
         f"{PUBLIC}/help/products/KI-301?lang=fi-FI"),
        ("+37120000000", "+37160000000", [("say", "vai jums ir stikla tējkanna")], "Vai vēlaties saiti uz šo īsziņā",
         f"{PUBLIC}/help/products/KI-302?lang=lv-LV"),
        ("+14155550123", "+15550100000", [("press", "3"), ("say", "how long does delivery take")],
         "Would you like a link", f"{PUBLIC}/help/articles/delivery_times?lang=en-US"),
    ],
)  # fmt: skip
def test_a_product_or_an_answer_in_each_language(line: Flask, twilio, caller, to, steps, said, link) -> None:  # type: ignore[no-untyped-def]
    api, base = twilio
    call = dial(line, caller, to)
    for how, what in steps:
        getattr(call, how)(what)
    call.hears(said)
    call.say({"fi-FI": "kyllä", "lv-LV": "jā"}.get(line.extensions["ivr.languages"].for_number(to) or "", "yes"))
    work(line, base)
    (sent,) = api.received
    assert sent["form"]["To"] == caller and sent["form"]["Body"].endswith(link)


def test_declined_nothing_is_sent(line: Flask, twilio) -> None:  # type: ignore[no-untyped-def]
    api, base = twilio
    call = dial(line, "+14155550123")
    call.say("how much is the glass kettle")
    call.hears("Would you like a link")
    call.say("no thanks")
    call.hears("Is there anything else I can help you with\\?")
    work(line, base)
    assert api.received == [] and texts(line) == []


@pytest.mark.parametrize(
    ("caller", "settings"),
    [
        ("+35891234567", {}),  # a Finnish landline
        ("+15005550006", {}),  # not a number that takes texts
        ("anonymous", {}),
        ("+14155550123", {"SMS_FROM": ""}),  # no number to send from
        ("+14155550123", {"PUBLIC_URL": ""}),  # no public address for the link
    ],
)
def test_not_offered_where_a_text_cannot_arrive(tmp_path: Path, template_db: Path, caller: str, settings: dict) -> None:
    app = make_app(tmp_path, template_db, **{**SETTINGS, **settings})
    base = PUBLIC if app.config["PUBLIC_URL"] else "http://localhost"
    call = SimulatedCall(FlaskTransport(app, TOKEN, base_url=base), caller=caller, called="+15550100000").dial()
    call.press("2")
    call.press("5001")
    call.hears("Order 5 0 0 1 has shipped")
    assert "text message" not in call.heard
    call.hears("To check another order, press 1")


def test_a_refused_text_is_tried_again_then_given_up(line: Flask, twilio) -> None:  # type: ignore[no-untyped-def]
    api, base = twilio
    api.status = 400
    call = dial(line, "+14155550123")
    call.say("the road runner")
    call.press("1")
    for attempt in range(1, 6):
        work(line, base, later=3600 * attempt)
    assert len(api.received) == 5
    (text,) = texts(line)
    assert text.status == "failed" and "unsubscribed" in text.error and text.attempts == 5
    work(line, base, later=3600 * 10)
    assert len(api.received) == 5
