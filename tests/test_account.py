"""The account branch's security: PINs never kept in clear, attempts counted once, the 24-hour lock."""

from __future__ import annotations

import json
import logging

from flask import Flask
from sqlalchemy import func, select

from ivr.db import get_db
from ivr.models import Call, PinAttempt
from ivr.simulator.phone import SimulatedCall
from ivr.simulator.transport import FlaskTransport
from tests.conftest import TOKEN

ADA = "+15550100001"


def call_at(app: Flask, clock: str, caller: str = ADA) -> SimulatedCall:
    app.config["CLOCK"] = clock
    call = SimulatedCall(FlaskTransport(app, TOKEN), caller=caller).dial()
    call.press("1")
    call.hears("^Please type your 4 digit PIN")
    return call


def test_no_name_is_said_before_the_pin(app: Flask) -> None:
    """Anyone can call from a spoofed number: Grace's name is said only once her PIN is right."""
    call = SimulatedCall(FlaskTransport(app, TOKEN), caller="+15550100002").dial()
    call.press("1")
    call.press("1111#")
    call.hears("isn't right")
    assert not any("Grace" in said for _who, said in call.transcript), call.transcript
    call.press("2468#")
    call.hears("Thank you, Grace")


def wrong_pins(call: SimulatedCall, count: int) -> None:
    for n in range(count):
        call.press(f"{1000 + n}#")


def test_the_pin_is_never_stored_or_logged(app: Flask, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    call = call_at(app, "2026-11-24T10:00:00-05:00")
    call.press("9876#")
    call.hears("isn't right")
    call.press("4321#")
    call.hears("Thank you, Ada")
    with app.app_context(), get_db().reading() as session:
        stored = session.get(Call, call.call_sid)
        assert stored is not None and stored.verified_customer_id is not None
        everything = repr(stored.collected) + stored.last_twiml + json.dumps(stored.events)
    for pin in ("4321", "9876"):
        assert pin not in everything
        assert pin not in caplog.text
    assert [e["input_value"] for e in stored.events if e["node"] == "pin_entry"] == ["****", "****"]


def test_a_pin_said_aloud_is_told_to_be_typed_and_never_kept(app: Flask, caplog) -> None:  # type: ignore[no-untyped-def]
    """Speech is heard at the PIN (a command, or a PIN said aloud), but what was said is kept nowhere."""
    caplog.set_level(logging.DEBUG)
    call = call_at(app, "2026-11-24T10:00:00-05:00")
    call.say("four three two one")
    call.hears("^For your security, please don't say your PIN aloud: type it on your keypad\\.$")
    call.say("4321")
    call.hears("don't say your PIN aloud")
    call.press("4321#")
    call.hears("Thank you, Ada")
    with app.app_context(), get_db().reading() as session:
        stored = session.get(Call, call.call_sid)
        assert stored is not None
        everything = repr(stored.collected) + stored.last_twiml + json.dumps(stored.events)
    for said in ("four three two one", "4321"):
        assert said not in everything
        assert said not in caplog.text
    assert [e["input_value"] for e in stored.events if e["node"] == "pin_entry"] == [
        "[masked speech]", "****", "****"
    ]  # fmt: skip


def test_a_retried_pin_step_counts_once(app: Flask) -> None:
    call = call_at(app, "2026-11-24T10:00:00-05:00")
    gather = call._waiting
    assert gather is not None
    url = gather.get("action")
    params = {**call._base_params(first=False), "Digits": "1111"}
    for _ in range(3):  # Twilio retries the same request
        assert call.transport.post(url, params).status == 200
    with app.app_context(), get_db().reading() as session:
        assert session.scalar(select(func.count()).select_from(PinAttempt)) == 1


def test_five_failures_in_a_row_lock_the_account_for_24_hours(app: Flask) -> None:
    first = call_at(app, "2026-11-24T10:00:00-05:00")
    wrong_pins(first, 3)
    first.hears("can't open your account on this call")
    second = call_at(app, "2026-11-24T11:00:00-05:00")
    wrong_pins(second, 1)
    second.hears("one more wrong PIN will lock phone access to your account for 24 hours")  # the warning first
    second.press("1")
    wrong_pins(second, 1)
    second.hears("locked for 24 hours")
    # While locked, no PIN is even asked for; From alone unlocks nothing.
    app.config["CLOCK"] = "2026-11-25T09:00:00-05:00"
    third = SimulatedCall(FlaskTransport(app, TOKEN), caller=ADA).dial()
    third.press("1")
    third.hears("locked for 24 hours")
    assert "PIN on your keypad" not in third.heard
    # 24 hours after the last failure the caller may try again, and a right PIN works.
    fourth = call_at(app, "2026-11-25T11:30:00-05:00")
    fourth.press("4321#")
    fourth.hears("Thank you, Ada")


def test_a_right_pin_resets_the_count(app: Flask) -> None:
    first = call_at(app, "2026-11-24T10:00:00-05:00")
    wrong_pins(first, 2)
    first.press("4321#")
    first.hears("Thank you, Ada")
    second = call_at(app, "2026-11-24T10:30:00-05:00")
    wrong_pins(second, 3)
    second.hears("can't open your account on this call")  # 3 in a row since the right one, not 5
    third = call_at(app, "2026-11-24T10:40:00-05:00")
    third.press("4321#")
    third.hears("Thank you, Ada")
