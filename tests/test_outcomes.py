"""Every call ends with an outcome in its row: self-service success is a query, not a guess."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from ivr.db import get_db
from ivr.models import Call
from ivr.simulator.phone import SimulatedCall
from ivr.simulator.transport import FlaskTransport
from tests.conftest import TOKEN

IN_HOURS, OUT_OF_HOURS = "2026-11-24T10:30:00-05:00", "2026-11-24T21:00:00-05:00"
MESSAGE = Path(__file__).parent / "fixtures" / "messages" / "ada.wav"


def order_then_goodbye(call: SimulatedCall) -> None:
    call.press("2")
    call.press("5001#")
    call.say("no, that's all, thank you")
    call.hears("glad I could help with your order")


def order_then_silence(call: SimulatedCall) -> None:
    call.say("where's my order")
    call.say("five zero zero one")
    call.silence()
    call.hears("^I'm glad I could help with your order\\. Thank you for calling Northwind\\. Goodbye!$")


def order_then_hang_up(call: SimulatedCall) -> None:
    call.press("2")
    call.press("5001#")
    call.hangup()


def answer_helped(call: SimulatedCall) -> None:
    call.say("how much is shipping")
    call.press("1")
    call.hears("glad that helped")
    call.hangup()


def transferred(call: SimulatedCall) -> None:
    call.say("can I talk to a real person")
    call.answer("completed")


def message_left(call: SimulatedCall) -> None:
    call.press("2")
    call.press("5001#")  # helped first: the message still counts, as the team has work
    call.press("0")
    call.press("1")
    call.record(MESSAGE)
    call.press("3")
    call.hears("Your message has been sent")


def message_then_hang_up_while_recording(call: SimulatedCall) -> None:
    call.press("0")
    call.press("1")
    call.record(MESSAGE, then_hangup=True)


def gave_up(call: SimulatedCall) -> None:
    call.say("goodbye")
    call.hears("^Thank you for calling Northwind\\. Goodbye!$")


def answer_rejected(call: SimulatedCall) -> None:
    call.press("2")
    call.press("5001#")  # helped first: the last request is what counts
    call.say("how much is shipping")
    call.hears("Did that answer your question")
    call.say("no")
    call.hears("What would you like to do")


def order_then_a_wrong_number(call: SimulatedCall) -> None:
    call.press("2")
    call.press("5001#")
    call.press("1")
    call.press("5009#")
    call.hears("couldn't find an order")


def answer_then_a_person(call: SimulatedCall) -> None:
    answer_helped_only(call)
    call.say("I want to talk to a person")
    call.hears("To leave a message, press 1")


def answer_helped_only(call: SimulatedCall) -> None:
    call.say("how much is shipping")
    call.press("1")
    call.hears("glad that helped")


def hung_up(call: SimulatedCall) -> None:
    call.press("2")
    call.hangup()


CALLS: list[tuple[Callable[[SimulatedCall], None], str, str]] = [
    (order_then_goodbye, IN_HOURS, "helped"),
    (order_then_silence, IN_HOURS, "helped"),
    (order_then_hang_up, IN_HOURS, "helped"),
    (answer_helped, IN_HOURS, "helped"),
    (transferred, IN_HOURS, "transferred"),
    (message_left, OUT_OF_HOURS, "message_left"),
    (message_then_hang_up_while_recording, OUT_OF_HOURS, "message_left"),
    (gave_up, IN_HOURS, "gave_up"),
    (hung_up, IN_HOURS, "hung_up"),
    # What happened to the caller's last request: an answer they said did not help, an order number
    # that was not found, a person asked for after an answer, is not "helped".
    (answer_rejected, IN_HOURS, "hung_up"),
    (order_then_a_wrong_number, IN_HOURS, "hung_up"),
    (answer_then_a_person, OUT_OF_HOURS, "hung_up"),
]


def outcome(app: Flask, call: SimulatedCall) -> str | None:
    with app.app_context(), get_db().reading() as session:
        return session.scalar(select(Call.outcome).where(Call.call_sid == call.call_sid))


@pytest.mark.parametrize(("play", "clock", "expected"), CALLS, ids=[c[0].__name__ for c in CALLS])
def test_the_call_row_says_how_it_ended(app: Flask, play, clock: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    app.config["CLOCK"] = clock
    call = SimulatedCall(FlaskTransport(app, TOKEN), caller="+15550100002").dial()
    play(call)
    call.hangup()
    assert outcome(app, call) == expected


def test_containment_is_one_query(app: Flask) -> None:
    app.config["CLOCK"] = IN_HOURS
    for play in (order_then_goodbye, answer_helped, transferred, hung_up):
        call = SimulatedCall(FlaskTransport(app, TOKEN), caller="+15550100002").dial()
        play(call)
        call.hangup()
    with app.app_context(), get_db().reading() as session:
        rows = dict(session.execute(select(Call.outcome, func.count()).group_by(Call.outcome)).all())
    assert rows == {"helped": 2, "transferred": 1, "hung_up": 1}
    assert rows["helped"] / sum(rows.values()) == 0.5
