"""Voice messages as the caller leaves them: one per Twilio recording, whoever reports it first.

Twilio tells us about a recording twice (the <Record> action and the recording status callback) and
retries each; every report goes through `record_message`, which makes the message once (a unique
RecordingSid) and fills in what a later report knows better. A message is in the queue from the
first report on, so hanging up before "send" loses nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.languages import CODE as LANGUAGE_CODE
from ivr.languages import line_languages
from ivr.messages import notify, search
from ivr.messages.words import path_of
from ivr.models import Call, Message, MessageHistory
from ivr.prompts import Catalog


@dataclass(frozen=True)
class Recorded:
    """What a report of a recording says."""

    call_sid: str
    recording_sid: str
    recording_url: str
    duration: int
    account_sid: str = ""


def call_path(session: Session, call_sid: str) -> list[str]:
    """The caller's way through the menus: each prompt answered and what the answer meant."""
    return path_of(session.scalar(select(Call.events).where(Call.call_sid == call_sid)) or [])


def record_message(
    session: Session,
    recorded: Recorded,
    now: dt.datetime | None = None,
    settings: dict[str, Any] | None = None,
    catalog: Catalog | None = None,
) -> Message | None:
    """The message for this recording, made if no report made it before; None for an empty one.

    Runs in the caller's write transaction; a concurrent report of the same recording loses the race
    on the unique RecordingSid, and the caller should retry in a new transaction (`record_once`).
    """
    if recorded.duration <= 0 or not recorded.recording_url:
        return None
    message = session.scalar(select(Message).where(Message.recording_sid == recorded.recording_sid))
    if message is not None:
        if recorded.account_sid and not message.account_sid:
            message.account_sid = recorded.account_sid
        return message
    call = session.get(Call, recorded.call_sid)
    collected = dict(call.collected or {}) if call is not None else {}
    # The webhooks carry no language: the call's row knows the one the caller has been hearing.
    default = line_languages(settings or {})[0]
    language = call.language if call is not None and LANGUAGE_CODE.fullmatch(call.language or "") else default
    message = Message(
        recording_sid=recorded.recording_sid,
        call_sid=recorded.call_sid,
        account_sid=recorded.account_sid,
        recording_url=recorded.recording_url,
        caller=call.from_number if call is not None else "",
        customer_id=call.verified_customer_id if call is not None else None,
        branch=str(collected.get("message_from", "")),
        reason=str(collected.get("message_reason", "caller_choice")),
        # The problem the caller reported, in words for the team ("order 5003: not received; ...").
        case=str(collected.get("problem_case") or "")[:500],
        path=call_path(session, recorded.call_sid),
        duration_seconds=recorded.duration,
        language=language,
        created_at=now or dt.datetime.now(dt.UTC),
        # The worker's schedule runs on the real clock, whatever the call's (a fixed one in tests).
        next_try_at=dt.datetime.now(dt.UTC),
    )
    search.refresh(session, message, catalog)
    session.add(message)
    session.flush()  # the unique RecordingSid is checked here
    session.add(
        MessageHistory(message_id=message.id, action="left", detail=f"{recorded.duration} s", at=message.created_at)
    )
    if settings is not None:
        notify.schedule(session, message, settings)  # in this transaction: no message goes untold
    return message


def record_once(  # type: ignore[no-untyped-def]
    open_writer,
    recorded: Recorded,
    now: dt.datetime | None = None,
    settings: dict[str, Any] | None = None,
    catalog: Catalog | None = None,
) -> int | None:
    """`record_message` in a transaction of its own, retried once if another report won the race."""
    for _attempt in range(2):
        try:
            with open_writer() as session:
                message = record_message(session, recorded, now, settings, catalog)
                return message.id if message is not None else None
        except IntegrityError:
            continue
    with open_writer() as session:
        found = session.scalar(select(Message.id).where(Message.recording_sid == recorded.recording_sid))
        return found


def replace(session: Session, message_id: int, by_recording: str) -> None:
    """The caller recorded the message again: the earlier one leaves the queue (it is kept)."""
    message = session.get(Message, message_id)
    if message is not None and message.status == "new":
        message.status = "replaced"
        session.add(MessageHistory(message_id=message.id, action="replaced", detail=f"re-recorded as {by_recording}"))
