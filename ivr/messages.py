"""Voice messages as the caller leaves them: one per Twilio recording, whoever reports it first.

Twilio tells us about a recording twice (the <Record> action and the recording status callback) and
retries each; every report goes through `record_message`, which makes the message once (a unique
RecordingSid) and fills in what a later report knows better. A message is in the queue from the
first report on, so hanging up before "send" loses nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr import notify
from ivr.agents import search
from ivr.languages import CODE as LANGUAGE_CODE
from ivr.models import Call, Message, MessageHistory
from ivr.speech.recognizer import UNSURE_BELOW, is_uncertain


def transcript_words(stored: object) -> list[tuple[str, float, bool]]:
    """A message's transcript words as kept ([word, confidence] pairs): (word, confidence, unsure).
    Anything else in the column is left out rather than shown."""
    words = []
    for item in stored if isinstance(stored, list) else ():
        if isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
            if isinstance(item[1], int | float) and not isinstance(item[1], bool):
                confidence = min(max(float(item[1]), 0.0), 1.0)
                words.append((item[0], confidence, confidence < UNSURE_BELOW))
    return words


def transcript_uncertain(stored: object) -> bool:
    """Whether most of a kept transcript's words are ones the recogniser was unsure of."""
    return is_uncertain([(word, confidence) for word, confidence, _ in transcript_words(stored)])


# Why a message was left (collected["message_reason"]), as the team says it.
REASONS = {
    "out_of_hours": "out of hours",
    "no_agent": "no agent answered",
    "failures": "could not get through the menus",
    "account_locked": "account locked",
    "pin_failures": "wrong PINs",
    "not_answered": "question not answered",
    "caller_choice": "chose to leave a message",
    "problem": "reported a problem",
}

# Nodes that are not menus a caller chose from: left out of the path shown to agents.
NOT_PATH = {"greeting", "start"}

# The language the agents' pages, e-mails and transcript notes are written in.
AGENTS_LOCALE = "en_US"


def line_languages(settings: dict[str, Any]) -> list[str]:
    """The languages the line speaks, its default first (IVR_LANGUAGES, else IVR_LANGUAGE)."""
    text = str(settings.get("LANGUAGES") or settings.get("LANGUAGE") or "en-US")
    codes = [code.strip() for code in text.split(",") if LANGUAGE_CODE.fullmatch(code.strip())]
    return list(dict.fromkeys(codes)) or ["en-US"]


@lru_cache(maxsize=64)
def language_name(code: str, locale: str = AGENTS_LOCALE) -> str:
    """A language by its name in `locale` ("Latvian" for lv-LV, from Babel's CLDR data); the code
    itself when Babel does not know it."""
    try:
        return Locale.parse(code, sep="-").get_language_name(locale) or code
    except (ValueError, TypeError, UnknownLocaleError):
        return code


def no_model_note(code: str) -> str:
    """Why a message has no transcript when no speech model on this server hears its language."""
    return f"No transcript: there is no speech model for {language_name(code)} on this server (IVR_VOSK_MODELS)."


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


def path_of(events: list[dict]) -> list[str]:  # type: ignore[type-arg]
    """A call's event log as `node: meaning` entries (ivr/agents/story.py says them in words)."""
    steps = [(event.get("node", ""), event.get("matched", "")) for event in events if isinstance(event, dict)]
    return [f"{node}: {matched}" if matched else node for node, matched in steps if node not in NOT_PATH]


def record_message(
    session: Session, recorded: Recorded, now: dt.datetime | None = None, settings: dict[str, Any] | None = None
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
    search.refresh(session, message)
    session.add(message)
    session.flush()  # the unique RecordingSid is checked here
    session.add(
        MessageHistory(message_id=message.id, action="left", detail=f"{recorded.duration} s", at=message.created_at)
    )
    if settings is not None:
        notify.schedule(session, message, settings)  # in this transaction: no message goes untold
    return message


def record_once(
    open_writer, recorded: Recorded, now: dt.datetime | None = None, settings: dict[str, Any] | None = None
) -> int | None:  # type: ignore[no-untyped-def]
    """`record_message` in a transaction of its own, retried once if another report won the race."""
    for _attempt in range(2):
        try:
            with open_writer() as session:
                message = record_message(session, recorded, now, settings)
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
