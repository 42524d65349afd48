"""The webhooks as Twilio meets them: signed requests, TwiML answers, no step taken twice."""

from __future__ import annotations

import re
from urllib.parse import unquote
from xml.etree import ElementTree

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from ivr.models import Call
from ivr.voice.signature import signature_of
from tests.conftest import TOKEN, make_app
from tests.helpers import post, sid, twilio_params


def response_root(response) -> ElementTree.Element:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.get_data(as_text=True))
    assert root.tag == "Response"
    return root


# The hints (the phrases of the main menu's options and of every command) are checked apart, below.
GOLDEN_INCOMING = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    '<Gather action="/voice/step/main_menu?n=1" finishOnKey="#" hints="HINTS" '
    'input="dtmf speech" language="en-US" method="POST" numDigits="1" speechTimeout="auto" timeout="5">'
    '<Say language="en-US" voice="Polly.Joanna">Hello, and thank you for calling Northwind.</Say>'
    '<Say language="en-US" voice="Polly.Joanna">How can I help you today? You can tell me in your own words, or '
    "choose an option.</Say>"
    '<Say language="en-US" voice="Polly.Joanna">For your account, press 1.</Say>'
    '<Say language="en-US" voice="Polly.Joanna">For the status of an order, press 2.</Say>'
    '<Say language="en-US" voice="Polly.Joanna">For answers to common questions, press 3.</Say>'
    '<Say language="en-US" voice="Polly.Joanna">To speak with someone, press 0 at any time.</Say>'
    "</Gather>"
    '<Redirect method="POST">/voice/step/main_menu?n=1</Redirect>'
    "</Response>"
)


def test_incoming_call_answers_golden_twiml(client) -> None:  # type: ignore[no-untyped-def]
    from ivr.flows.main import COMMANDS, MAIN_OPTIONS
    from ivr.prompts import Catalog
    from ivr.speech.matching import normalise

    response = post(client, "/voice/incoming", twilio_params(sid(), CallStatus="ringing"))
    assert response.status_code == 200 and response.mimetype == "text/xml"
    body = response.get_data(as_text=True)
    hints = re.search(r'hints="([^"]*)"', body)
    assert hints is not None and body.replace(hints.group(1), "HINTS") == GOLDEN_INCOMING
    catalog = Catalog.load()
    names = [o.name for o in MAIN_OPTIONS if not o.only_if] + [c.name for c in COMMANDS]  # a one-language line
    said = hints.group(1).split(", ")
    # Each option's and command's likeliest phrases, each set of words once: "an agent" adds nothing to "agent".
    for name in names:
        assert catalog.phrases("en-US", name)[0] in said
    assert len({tuple(normalise(p)) for p in said}) == len(said) <= 6 * len(names)
    assert all(any(p in catalog.phrases("en-US", name) for name in names) for p in said)
    assert "agent" in said and "an agent" not in said and "a real person" in said


def test_order_number_prompt_golden_twiml(client) -> None:  # type: ignore[no-untyped-def]
    call = sid()
    post(client, "/voice/incoming", twilio_params(call))
    response = post(client, "/voice/step/main_menu?n=1", twilio_params(call, Digits="2"))
    assert response.get_data(as_text=True) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Gather action="/voice/step/order_number?n=2" finishOnKey="#" hints="$OOV_CLASS_DIGIT_SEQUENCE" '
        'input="dtmf speech" language="en-US" method="POST" numDigits="4" speechTimeout="auto" timeout="5">'
        '<Say language="en-US" voice="Polly.Joanna">Please enter your 4-digit order number. '
        "Or just say it.</Say></Gather>"
        '<Redirect method="POST">/voice/step/order_number?n=2</Redirect></Response>'
    )


# ---- signatures -----------------------------------------------------------------------


def test_unsigned_request_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/voice/incoming", data=twilio_params(sid())).status_code == 403


def test_forged_signature_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    response = post(client, "/voice/incoming", twilio_params(sid()), token="not-our-token")
    assert response.status_code == 403


def test_altered_parameter_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    params = twilio_params(sid())
    signature = RequestValidator(TOKEN).compute_signature("http://localhost/voice/incoming", params)
    params["From"] = "+15550100002"
    response = client.post("/voice/incoming", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_signature_for_another_url_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    params = twilio_params(sid())
    signature = RequestValidator(TOKEN).compute_signature("http://localhost/voice/status", params)
    response = client.post("/voice/incoming", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


@settings(max_examples=200, deadline=None)
@given(
    url=st.text(max_size=80),
    params=st.dictionaries(st.text(max_size=12), st.text(max_size=40), max_size=12),
)
def test_the_signature_is_the_twilio_librarys(url: str, params: dict[str, str]) -> None:
    """The webhooks' one-HMAC check signs exactly as RequestValidator does, whatever the names and values."""
    assert signature_of(TOKEN, url, params) == RequestValidator(TOKEN).compute_signature(url, params)


@pytest.mark.parametrize("path", ["/voice/step/main%20menu?n=1", "/voice/step/men%C3%BC?n=1&x=a%2Fb"])
def test_signature_covers_the_url_as_sent_percent_encoded(client, path: str) -> None:  # type: ignore[no-untyped-def]
    # Twilio signs the URL exactly as it requested it: a step URL with escapes checks out (and, being
    # no step of ours, gets the apology), the same request signed for the unescaped URL does not.
    response_root(post(client, path, twilio_params(sid())))
    params = twilio_params(sid())
    signature = RequestValidator(TOKEN).compute_signature("http://localhost" + unquote(path), params)
    assert client.post(path, data=params, headers={"X-Twilio-Signature": signature}).status_code == 403


def test_no_token_configured_refuses_everything(tmp_path, template_db) -> None:  # type: ignore[no-untyped-def]
    app = make_app(tmp_path, template_db, TWILIO_AUTH_TOKEN="")
    response = post(app.test_client(), "/voice/incoming", twilio_params(sid()), token="")
    assert response.status_code == 403


def test_validation_off_is_explicit_and_logged(tmp_path, template_db, caplog) -> None:  # type: ignore[no-untyped-def]
    app = make_app(tmp_path, template_db, VALIDATE_SIGNATURES=False)
    assert "IVR_VALIDATE_SIGNATURES is off" in caplog.text
    response = app.test_client().post("/voice/incoming", data=twilio_params(sid()))
    response_root(response)


@pytest.mark.parametrize(
    "public_url", ["https://ivr.example.com", "https://ivr.example.com:443", "https://ivr.example.com:8443"]
)
def test_behind_tls_proxy_with_public_url(tmp_path, template_db, public_url: str) -> None:  # type: ignore[no-untyped-def]
    app = make_app(tmp_path, template_db, PUBLIC_URL=public_url)
    client = app.test_client()
    # Twilio signs the public https URL; the app sees http://localhost inside.
    response = post(client, "/voice/incoming", twilio_params(sid()), url_base=public_url)
    response_root(response)
    assert post(client, "/voice/incoming", twilio_params(sid())).status_code == 403


def test_behind_tls_proxy_with_forwarded_headers(tmp_path, template_db) -> None:  # type: ignore[no-untyped-def]
    app = make_app(tmp_path, template_db, PROXY_HOPS=1)
    client = app.test_client()
    params = twilio_params(sid())
    signature = RequestValidator(TOKEN).compute_signature("https://ivr.example.com/voice/incoming", params)
    headers = {"X-Twilio-Signature": signature, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "ivr.example.com"}
    response_root(client.post("/voice/incoming", data=params, headers=headers))
    # Without trusting the proxy, the same request does not check out.
    plain = make_app(tmp_path, template_db).test_client()
    assert plain.post("/voice/incoming", data=params, headers=headers).status_code == 403


# ---- one step at a time ------------------------------------------------------------------


def test_duplicate_post_does_not_advance_the_call(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    call = sid()
    post(client, "/voice/incoming", twilio_params(call))
    first = post(client, "/voice/step/main_menu?n=1", twilio_params(call, Digits="2"))
    again = post(client, "/voice/step/main_menu?n=1", twilio_params(call, Digits="2"))
    assert again.get_data() == first.get_data()
    with app.extensions["ivr.db"].transaction() as session:
        stored = session.get(Call, call)
        assert (stored.node, stored.step) == ("order_number", 2)
        assert [event["step"] for event in stored.events] == [1, 2]


def test_duplicate_incoming_does_not_open_the_call_twice(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    call = sid()
    first = post(client, "/voice/incoming", twilio_params(call))
    again = post(client, "/voice/incoming", twilio_params(call))
    assert first.get_data() == again.get_data()
    with app.extensions["ivr.db"].transaction() as session:
        assert session.get(Call, call).step == 1


def test_restarting_the_server_between_steps_keeps_the_call(tmp_path, template_db) -> None:  # type: ignore[no-untyped-def]
    call = sid()
    before = make_app(tmp_path, template_db)
    post(before.test_client(), "/voice/incoming", twilio_params(call))
    post(before.test_client(), "/voice/step/main_menu?n=1", twilio_params(call, Digits="2"))
    before.extensions["ivr.db"].engine.dispose()
    after = make_app(tmp_path, template_db)  # a new process as far as the call can tell
    response = post(after.test_client(), "/voice/step/order_number?n=2", twilio_params(call, Digits="5003"))
    assert "was delivered" in response.get_data(as_text=True)


def test_event_log_records_each_step(app: Flask, phone) -> None:  # type: ignore[no-untyped-def]
    call = phone()
    call.say("where is my order")
    call.press("5001#")
    call.hangup()
    with app.extensions["ivr.db"].transaction() as session:
        stored = session.get(Call, call.call_sid)
        events = stored.events
        rows = [(e["step"], e["node"], e["input_kind"], e["input_value"], e["matched"], e["next_node"]) for e in events]
        assert rows == [
            (1, "start", "start", "", "", "main_menu"),
            (2, "main_menu", "speech", "where is my order", "order_status", "order_number"),
            (3, "order_number", "dtmf", "5001", "5001", "order_result"),
        ]
        assert "order_shipped" in events[-1]["said"].split()
        # The nodes each step went through: the greeting's message, the order's look-up (a handler).
        assert [e["path"] for e in events] == [
            ["language_start", "greeting", "main_menu"],
            ["order_number"],
            ["order_lookup", "order_result"],
        ]
        assert events[0]["at"] <= events[-1]["at"] and events[0]["at"].endswith("+00:00")
        assert stored.end_status == "completed" and stored.ended_at is not None
        assert stored.duration_seconds is not None and stored.duration_seconds > 0


def test_sensitive_digits_are_masked_in_the_event_log() -> None:
    from ivr.flows.engine import _shown
    from ivr.flows.inputs import Keys, Speech
    from ivr.flows.nodes import NumberEntry

    pin = NumberEntry("pin", prompt="p", store_as="pin", goto="x", sensitive=True)
    assert _shown(Keys("4321"), pin) == "****"
    assert "4" not in _shown(Speech("four three two one"), pin)


# ---- whatever comes in, the caller hears something ----------------------------------------


@pytest.mark.parametrize(
    "path, params",
    [
        ("/voice/step/main_menu?n=1", {"Digits": "2"}),  # unknown CallSid
        ("/voice/step/no_such_node?n=1", {}),  # a step from an old deploy
        ("/voice/step/main_menu?n=banana", {"Digits": "2"}),
        ("/voice/some/old/url", {}),
    ],
)
def test_bad_steps_apologise_and_go_to_the_main_menu(client, path: str, params: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    call = sid()
    root = response_root(post(client, path, twilio_params(call, **params)))
    assert "Sorry, something went wrong" in root.find("Say").text
    assert root.find("Redirect").text == "/voice/main-menu"
    menu = response_root(post(client, "/voice/main-menu", twilio_params(call)))
    assert menu.find("Gather").get("action").startswith("/voice/step/main_menu")


def test_missing_callsid_apologises_and_hangs_up(client) -> None:  # type: ignore[no-untyped-def]
    root = response_root(post(client, "/voice/incoming", {"From": "+15550100001"}))
    assert root.find("Hangup") is not None


def test_internal_error_is_an_apology_not_a_500(app: Flask, client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    call = sid()
    post(client, "/voice/incoming", twilio_params(call))
    from ivr.flows import orders

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the order system is down")

    monkeypatch.setitem(
        app.extensions["ivr.engine"].flow.nodes,
        "order_lookup",
        orders.NODES[1].__class__("order_lookup", run=broken, exits=orders.NODES[1].exits),
    )
    post(client, "/voice/step/main_menu?n=1", twilio_params(call, Digits="2"))
    root = response_root(post(client, "/voice/step/order_number?n=2", twilio_params(call, Digits="5001")))
    assert "Sorry, something went wrong" in root.find("Say").text
    # The failed step changed nothing: the call is still waiting for an order number.
    with app.extensions["ivr.db"].transaction() as session:
        assert session.get(Call, call).node == "order_number"


def test_status_callback_for_unknown_call_is_fine(client) -> None:  # type: ignore[no-untyped-def]
    response_root(post(client, "/voice/status", twilio_params(sid(), CallStatus="completed", CallDuration="x")))
