"""Call state in the database: load it for a step, save it back with the step's event, in one go.

This is every webhook's hot path, so it speaks SQLAlchemy Core (cached, compiled statements) on the
step's own connection rather than the ORM's unit of work: one SELECT, one UPDATE or INSERT, one
INSERT into the event log, in the step's single transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from ivr.flows.engine import Turn
from ivr.flows.nodes import CallState
from ivr.models import Call, CallEvent, utcnow

CALLS = Call.__table__
EVENTS = CallEvent.__table__
_COLUMNS = (
    "call_sid",
    "from_number",
    "node",
    "step",
    "retries",
    "collected",
    "language",
    "verified_customer_id",
    "last_twiml",
)


# Built once: statements with bound parameters hit SQLAlchemy's compiled cache without rebuilding keys.
FIND_CALL = select(*(CALLS.c[name] for name in _COLUMNS)).where(CALLS.c.call_sid == bindparam("sid"))
INSERT_CALL = insert(CALLS)
UPDATE_CALL = update(CALLS).where(CALLS.c.call_sid == bindparam("sid"))
# Optimistic: the step is saved only if no other request saved this step first.
ADVANCE_CALL = update(CALLS).where(CALLS.c.call_sid == bindparam("sid"), CALLS.c.step == bindparam("expected_step"))
INSERT_EVENT = insert(EVENTS)


@dataclass
class CallRecord:
    """A call's row as a step needs it."""

    call_sid: str
    from_number: str
    node: str
    step: int = 0
    retries: int = 0
    collected: dict[str, Any] = field(default_factory=dict)
    language: str = "en-US"
    verified_customer_id: int | None = None
    last_twiml: str = ""
    is_new: bool = False


def find_call(session: Session, call_sid: str) -> CallRecord | None:
    row = session.connection().execute(FIND_CALL, {"sid": call_sid}).first()
    return CallRecord(**row._mapping) if row is not None else None


def open_call(call_sid: str, caller: str, language: str, node: str) -> CallRecord:
    """A new call, inserted when its first turn is saved."""
    return CallRecord(call_sid=call_sid, from_number=caller[:32], node=node, language=language, is_new=True)


def state_of(call: CallRecord) -> CallState:
    return CallState(
        node=call.node,
        step=call.step,
        retries=call.retries,
        collected=dict(call.collected or {}),
        language=call.language,
        caller=call.from_number,
        verified_customer_id=call.verified_customer_id,
    )


def save_turn(session: Session, call: CallRecord, turn: Turn, at_node: str, twiml: str, called: str = "") -> bool:
    """Store the call's new state, the answer given, and the step in the event log.

    False when another request (a Twilio retry, another worker) saved this step first: nothing is
    written, and the caller should get that request's answer instead.
    """
    state, now = turn.state, utcnow()
    values = {
        "node": state.node,
        "step": state.step,
        "retries": state.retries,
        "collected": dict(state.collected),
        "verified_customer_id": state.verified_customer_id,
        "last_twiml": twiml,
        "updated_at": now,
    }
    connection = session.connection()
    if call.is_new:
        connection.execute(
            INSERT_CALL,
            {"call_sid": call.call_sid, "from_number": call.from_number, "to_number": called[:32],
             "language": call.language, "started_at": now, **values},
        )  # fmt: skip
    else:
        advanced = connection.execute(ADVANCE_CALL, {"sid": call.call_sid, "expected_step": call.step, **values})
        if advanced.rowcount != 1:
            return False
    connection.execute(
        INSERT_EVENT,
        {"call_sid": call.call_sid, "seq": state.step, "at": now, "node": at_node, "input_kind": turn.input_kind,
         "input_value": turn.input_value[:255], "matched": turn.matched[:64], "next_node": state.node,
         "said": " ".join(turn.said)},
    )  # fmt: skip
    return True


def end_call(session: Session, call_sid: str, status: str, duration: int | None) -> None:
    """Twilio's status callback: how and when the call ended (a repeat keeps the first end time)."""
    session.connection().execute(
        UPDATE_CALL,
        {"sid": call_sid, "end_status": status[:20], "duration_seconds": duration, "ended_at": dt.datetime.now(dt.UTC)},
    )
