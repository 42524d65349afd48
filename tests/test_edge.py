"""Every value from outside is cleaned at the edge: signed webhook fields with control characters,
other scripts' digits and huge values, and the agents' forms, search and credentials."""

from __future__ import annotations

import logging
from pathlib import Path
from xml.etree import ElementTree

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ivr.db import get_db
from ivr.models import Call
from tests.helpers import post, sid, twilio_params

WEBHOOKS = [
    "/voice/incoming",
    "/voice/step/main_menu?n=1",
    "/voice/step/order_number?n=2",
    "/voice/step/pin_entry?n=2",
    "/voice/step/faq_refine?n=2",
    "/voice/step/message_record?n=2",
    "/voice/step/transfer_to_agent?n=2",
    "/voice/main-menu",
    "/voice/status",
    "/voice/recording",
]
ODD = st.sampled_from(["²", "①", "٣", "𝟗", "9" * 30, "-1", "1e309", "NaN", "\x00", "\x01\x02", "\u2028", "\ud7ff",
                       "x" * 5000, "+1555\x0b0100", "", "*", "#", "0"])  # fmt: skip
VALUE = st.text(max_size=300) | ODD | st.lists(ODD, min_size=2, max_size=4).map("".join)
FIELDS = st.dictionaries(
    st.sampled_from(["Digits", "SpeechResult", "Confidence", "From", "To", "CallStatus", "CallDuration",
                     "DialCallStatus", "RecordingUrl", "RecordingSid", "RecordingDuration", "RecordingStatus",
                     "AccountSid"]),
    VALUE,
)  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(WEBHOOKS), fields=FIELDS, step=st.sampled_from(["2", "9" * 30, "-1", ""]))
def test_every_webhook_answers_well_formed_twiml_to_anything_signed(client, caplog, path, fields, step) -> None:  # type: ignore[no-untyped-def]
    caplog.clear()
    call = sid()
    post(client, "/voice/incoming", twilio_params(call))
    post(client, "/voice/step/main_menu?n=1", twilio_params(call, Digits="2"))
    path = path.replace("n=2", f"n={step}") if step else path
    response = post(client, path, twilio_params(call, **fields))
    assert response.status_code == 200 and response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.get_data(as_text=True))
    assert root.tag == "Response"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]


def test_a_caller_id_with_control_characters_never_reaches_the_dial(app: Flask) -> None:
    app.config["CLOCK"] = "2026-11-24T10:30:00-05:00"
    client, call = app.test_client(), sid()
    post(client, "/voice/incoming", twilio_params(call, From="+1555\x0b0100\x01"))
    dial = ElementTree.fromstring(post(client, "/voice/step/main_menu?n=1", twilio_params(call, Digits="0")).data)
    assert dial.find("Dial") is not None and dial.find("Dial").get("callerId") in ("+15550100", None)  # type: ignore[union-attr]
    odd = sid()
    post(client, "/voice/incoming", twilio_params(odd, From="Anonymous"))
    dial = ElementTree.fromstring(post(client, "/voice/step/main_menu?n=1", twilio_params(odd, Digits="0")).data)
    assert dial.find("Dial").get("callerId") is None  # type: ignore[union-attr]


def test_digits_of_other_scripts_are_no_match_not_an_error(app: Flask, caplog) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    for digits in ("²", "①", "٣"):
        call = sid()
        post(client, "/voice/incoming", twilio_params(call))
        root = ElementTree.fromstring(
            post(client, "/voice/step/main_menu?n=1", twilio_params(call, Digits=digits)).data
        )
        assert "didn't get that" in "".join(root.itertext())
    assert "failed" not in caplog.text


def test_huge_and_odd_durations_lose_no_callback(app: Flask) -> None:
    client, call = app.test_client(), sid()
    post(client, "/voice/incoming", twilio_params(call))
    post(client, "/voice/status", twilio_params(call, CallStatus="completed", CallDuration="9" * 30))
    with app.app_context(), get_db().reading() as session:
        ended = session.get(Call, call)
        assert ended is not None and ended.end_status == "completed" and ended.duration_seconds is None


def test_a_body_over_the_limit_gets_twiml_not_403(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/voice/incoming", data={"CallSid": sid(), "Junk": "x" * 70_000})
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert ElementTree.fromstring(response.data).find("Say") is not None


def test_the_main_menu_url_without_a_step_counter_does_not_advance_the_call(app: Flask) -> None:
    client, call = app.test_client(), sid()
    post(client, "/voice/incoming", twilio_params(call))
    first = post(client, "/voice/main-menu", twilio_params(call)).data
    for _ in range(3):
        assert post(client, "/voice/main-menu", twilio_params(call)).data == first
    with app.app_context(), get_db().reading() as session:
        assert session.scalar(select(Call.step).where(Call.call_sid == call)) == 1


# ---- the agents' side -----------------------------------------------------------------------------


@pytest.fixture
def agents(tmp_path: Path, template_db: Path):  # type: ignore[no-untyped-def]
    from tests.conftest import make_app
    from tests.helpers import PASSWORD

    app = make_app(tmp_path, template_db, SECRET_KEY="test-secret-key")
    assert app.test_cli_runner().invoke(args=["agents", "create", "ann"], input=PASSWORD + "\n").exit_code == 0
    yield app
    app.extensions["ivr.db"].engine.dispose()


def test_a_next_with_line_breaks_or_another_site_goes_to_the_queue(agents: Flask) -> None:
    from tests.helpers import PASSWORD, csrf

    for target in ("/\r\n//evil.example", "//evil.example", "/\\evil.example", "https://evil.example/agent"):
        client = agents.test_client()
        reply = client.post("/agent/login", data={"name": "ann", "password": PASSWORD, "next": target,
                                                  "csrf_token": csrf(client, "/agent/login")})  # fmt: skip
        assert reply.status_code == 302 and reply.headers["Location"] == "/agent/", target


def test_search_wildcards_are_literal_and_nul_is_harmless(agents: Flask) -> None:
    from tests.helpers import PASSWORD, api_token, bearer, csrf, leave_message

    leave_message(agents)
    client, ann = agents.test_client(), bearer(api_token(agents))
    every = client.get("/agent/api/messages?show=all", headers=ann).get_json()["messages"]
    assert len(every) == 1
    for query in ("%25", "_", "a%00b"):  # %, _ and a NUL inside words: literal, and nothing has them
        found = client.get(f"/agent/api/messages?show=all&q={query}", headers=ann)
        assert found.status_code == 200 and found.get_json()["messages"] == [], query
    assert client.get("/agent/api/messages?q=%00", headers=ann).status_code == 200
    assert client.get("/agent/api/messages", headers=bearer("ivr_\x00" + "A" * 42)).status_code == 401
    # A name with a NUL is the name without it (no database refuses the attempt's row).
    for name, status in (("ann\x00", 302), ("\x00bob", 401)):
        reply = client.post("/agent/login", data={"name": name, "password": PASSWORD if status == 302 else "nope",
                                                  "csrf_token": csrf(client, "/agent/login")})  # fmt: skip
        assert reply.status_code == status, name


def test_a_note_keeps_its_lines_and_loses_only_control_characters(agents: Flask) -> None:
    from tests.helpers import api_token, bearer, leave_message

    message_id = leave_message(agents)
    client = agents.test_client()
    text = "Called back\x00 twice.\r\nLeft a voicemail\x07.\tWill try again."
    note = client.post(f"/agent/api/messages/{message_id}/note", headers=bearer(api_token(agents)), json={"text": text})
    assert note.status_code == 200
    assert note.get_json()["notes"][-1]["text"] == "Called back twice.\nLeft a voicemail.\tWill try again."
