"""Call state in the database: load it for a step, save it back with the step's event, in one go."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ivr.flows.engine import Turn
from ivr.flows.nodes import CallState
from ivr.models import Call, CallEvent, utcnow


def find_call(session: Session, call_sid: str) -> Call | None:
    # FOR UPDATE serialises two workers serving the same call on PostgreSQL; on SQLite the
    # write transaction (BEGIN IMMEDIATE) already does.
    return session.get(Call, call_sid, with_for_update=True)


def open_call(session: Session, call_sid: str, caller: str, called: str, language: str, node: str) -> Call:
    call = Call(
        call_sid=call_sid,
        from_number=caller[:32],
        to_number=called[:32],
        language=language,
        node=node,
        step=0,
        retries=0,
        collected={},
        last_twiml="",
    )
    session.add(call)
    return call


def state_of(call: Call) -> CallState:
    return CallState(
        node=call.node,
        step=call.step,
        retries=call.retries,
        collected=dict(call.collected or {}),
        language=call.language,
        caller=call.from_number,
        verified_customer_id=call.verified_customer_id,
    )


def save_turn(session: Session, call: Call, turn: Turn, at_node: str, twiml: str) -> None:
    """Store the call's new state, the answer given, and the step in the event log."""
    state = turn.state
    call.node = state.node
    call.step = state.step
    call.retries = state.retries
    call.collected = dict(state.collected)
    call.verified_customer_id = state.verified_customer_id
    call.last_twiml = twiml
    call.updated_at = utcnow()
    session.add(
        CallEvent(
            call_sid=call.call_sid,
            seq=state.step,
            node=at_node,
            input_kind=turn.input_kind,
            input_value=turn.input_value[:255],
            matched=turn.matched[:64],
            next_node=state.node,
            said=" ".join(turn.said),
        )
    )


def end_call(call: Call, status: str, duration: int | None) -> None:
    """Twilio's status callback: how and when the call ended (a repeat keeps the first end time)."""
    call.end_status = status[:20]
    call.duration_seconds = duration
    call.ended_at = call.ended_at or dt.datetime.now(dt.UTC)
