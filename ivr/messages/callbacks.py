"""Callback requests: a caller who would have waited for a person (nobody answered, out of hours)
asks to be called back, now-ish or at a time they chose in opening hours.

A request is a message in the desk's queue (channel "callback", no audio), with the caller's path and
case like a voice message, so agents claim, note and close it the same way; what is its own is the
number to call and when. The queue shows due callbacks first. An agent records what came of each call:
reached and wrong number close it; no answer is tried once more (at a time the agent chose, or an hour
later in opening hours), and a second no answer closes it. The insights count callbacks requested,
made on time (the first call within ON_TIME of the time due) and reached.

The number to call is the caller's own (their caller ID) or one they typed. A typed number must be a
real number of the line's country or of the caller's own, and never one that costs the line more than
a call (premium rate, shared cost): a caller cannot make the team dial what they like.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import phonenumbers
from sqlalchemy.orm import Session

from ivr import caller_id
from ivr.errors import IVRError
from ivr.hours import OpeningHours
from ivr.messages import notify, search
from ivr.messages.record import call_path
from ivr.models import Message, MessageHistory, as_utc
from ivr.prompts import Catalog

# What a call to the caller came to (the desk's words for each).
RESULTS = {"reached": "reached", "no_answer": "no answer", "wrong_number": "wrong number"}
# A callback is tried at most this many times: once, and once more when nobody answered.
TRIES = 2
# How many times in opening hours a caller is offered, and how far apart.
SLOTS = 3
SLOT_STEP = dt.timedelta(hours=1)
# The first slot is at least this far ahead (time for the team to see it).
LEAD = dt.timedelta(minutes=30)
# A call made within this of the time due is on time.
ON_TIME = dt.timedelta(hours=1)
# Number types a callback may go to (phonenumbers' own): never premium rate or shared cost.
CALLABLE = {
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
}
NOW = "now"


class CallbackError(IVRError):
    """A result or a time that cannot be recorded, said to the agent as is."""


def region_of(number: str) -> str | None:
    """The country of a number in international form (+1..., +358...), or None."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return None


def caller_number(caller: str) -> str | None:
    """The caller's own number in international form, when it is one (not hidden, not a client name)."""
    if caller_id.hidden(caller):
        return None
    try:
        parsed = phonenumbers.parse(caller, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def typed_number(digits: str, caller: str, settings: dict[str, Any]) -> str | None:
    """The number a caller typed, in international form, when the team may call it: valid, of the
    line's country (IVR_PHONE_NUMBER's, else the US) or the caller's own, and not premium rate."""
    home = region_of(str(settings.get("PHONE_NUMBER") or "")) or "US"
    theirs = region_of(caller)
    if not digits.isascii() or not digits.isdigit():
        return None
    for region in dict.fromkeys(r for r in (theirs, home) if r):
        try:
            parsed = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            continue
        if (
            phonenumbers.is_valid_number(parsed)
            and phonenumbers.region_code_for_number(parsed) in (home, theirs)
            and phonenumbers.number_type(parsed) in CALLABLE
        ):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return None


def slots(hours: OpeningHours, now: dt.datetime, count: int = SLOTS) -> list[dt.datetime]:
    """The next `count` times a callback may be booked for: whole hours (local time) in opening
    hours, at least LEAD ahead; the first when the line is closed is its next opening."""
    local = hours.local(now + LEAD)
    start = local.replace(minute=0, second=0, microsecond=0)
    start = start if start == local else start + dt.timedelta(hours=1)
    found: list[dt.datetime] = []
    if not hours.is_open(now):
        opening = hours.next_opening(now)
        if opening is None:
            return []
        found.append(opening)
        start = max(start, opening + SLOT_STEP)
    moment = start.astimezone(dt.UTC)
    for _ in range(24 * 15):
        if len(found) >= count:
            break
        if hours.is_open(moment):
            found.append(hours.local(moment))
        moment += SLOT_STEP
    return found


def when_due(hours: OpeningHours, now: dt.datetime, chosen: str) -> dt.datetime:
    """When a callback the caller chose is due: now ("as soon as someone is free", only in opening
    hours), or a time they chose, which must be in opening hours."""
    if chosen == NOW:
        if not hours.is_open(now):
            raise CallbackError("The team is not working now, so no call can be made now: choose a time.")
        return now
    try:
        moment = dt.datetime.fromisoformat(chosen)
    except ValueError:
        raise CallbackError(f"{chosen!r} is not a time.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=hours.zone)
    if not hours.is_open(moment):
        raise CallbackError("That time is outside opening hours: choose a time when the team is working.")
    return max(moment.astimezone(dt.UTC), now)  # stored in UTC, as every time is


@dataclass(frozen=True)
class Request:
    """What a caller asked for: the number, when, and why and from where (as a message keeps it)."""

    call_sid: str
    caller: str
    to: str
    at: dt.datetime
    reason: str
    branch: str
    case: str
    customer_id: int | None
    language: str


def request(
    session: Session,
    asked: Request,
    now: dt.datetime,
    line: tuple[dict[str, Any], OpeningHours],
    catalog: Catalog | None = None,
) -> Message:
    """The callback in the queue (once per call: asking again in the same call changes it), and
    the team told as of any message. `line`: its settings and opening hours."""
    settings, hours = line
    said = f"call {asked.to} {'as soon as someone is free' if asked.at <= now else local(hours, asked.at)}"
    sid = f"callback-{asked.call_sid}"
    message = session.query(Message).filter(Message.recording_sid == sid).one_or_none()
    if message is not None:
        message.callback_to, message.callback_at, message.callback_due_at = asked.to, asked.at, asked.at
        session.add(MessageHistory(message_id=message.id, action="callback changed", detail=said, at=now))
        return message
    message = Message(
        recording_sid=sid,
        call_sid=asked.call_sid,
        recording_url="",
        channel="callback",
        caller=asked.caller,
        customer_id=asked.customer_id,
        branch=asked.branch,
        reason=asked.reason,
        case=asked.case[:500],
        path=call_path(session, asked.call_sid),
        language=asked.language,
        created_at=now,
        audio_status="none",
        transcript_status="done",
        next_try_at=None,
        callback_to=asked.to,
        callback_at=asked.at,
        callback_due_at=asked.at,
    )
    search.refresh(session, message, catalog)
    session.add(message)
    session.flush()
    session.add(MessageHistory(message_id=message.id, action="callback asked", detail=said, at=now))
    notify.schedule(session, message, settings)
    return message


def local(hours: OpeningHours, moment: dt.datetime) -> str:
    """A time as the history says it, on the line's clock: "Wed 25 Nov 10:00 EST"."""
    return hours.local(as_utc(moment)).strftime("%a %d %b %H:%M %Z")


def is_due(message: Message, now: dt.datetime) -> bool:
    """A callback whose call should be made now (or should have been)."""
    due = message.callback_due_at
    return due is not None and message.status in ("new", "in_progress") and as_utc(due) <= now


def on_time(message: Message) -> bool:
    """Its first call was made within ON_TIME of the time the caller chose."""
    first, at = message.callback_first_try_at, message.callback_at
    return first is not None and at is not None and as_utc(first) <= as_utc(at) + ON_TIME


def retry_at(hours: OpeningHours, now: dt.datetime, after: dt.timedelta) -> dt.datetime:
    """When a callback nobody answered is tried again: `after` from now, in opening hours."""
    moment = now + after
    if hours.is_open(moment):
        return moment
    return (hours.next_opening(moment) or moment).astimezone(dt.UTC)


def outcome(
    message: Message, result: str, now: dt.datetime, hours: OpeningHours, settings: dict[str, Any], again: str = ""
) -> str:
    """Record what a call to the caller came to; what happens next, in the history's words. `again`:
    when to try again after no answer (a local date and time the agent typed; blank: an hour on)."""
    if message.channel != "callback":
        raise CallbackError(f"Message {message.id} is not a callback request.")
    if result not in RESULTS:
        raise CallbackError(f"{result[:20]!r} is not a result: use one of {', '.join(RESULTS)}.")
    if message.callback_due_at is None or message.status not in ("new", "in_progress"):
        raise CallbackError(f"Callback {message.id} is closed: there is no call left to record.")
    retry = None
    if result == "no_answer" and message.callback_tries + 1 < TRIES:
        if again.strip():
            retry = when_due(hours, now, again.strip())
            if retry <= now:
                raise CallbackError("That time has passed: choose a later one for the next call.")
        else:
            retry = retry_at(hours, now, dt.timedelta(minutes=int(settings.get("CALLBACK_RETRY_MINUTES", 60))))
    message.callback_tries += 1
    message.callback_first_try_at = message.callback_first_try_at or now
    message.callback_result = result
    message.callback_due_at = retry
    if retry is not None:
        message.status, message.assignee_id = "new", None
        return f"{RESULTS[result]}; tried again {local(hours, retry)}"
    message.status = "done"
    if result == "no_answer":
        return f"{RESULTS[result]} again; closed"
    return f"{RESULTS[result]}; closed"
