"""A caller's other contact with the line, for the message page: "third message in a week".

Their other messages (left from the same number, or by the same verified customer) and their calls
(from the same number, or from the customer's number on file), each with when, what they did and
how it ended: those before the message (the newest first) and those since (listed apart), counted
from when the message was left.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from ivr.agents.story import story
from ivr.messages.words import path_of
from ivr.models import Call, Customer, Message, as_utc

SHOWN = 10
WEEK = dt.timedelta(days=7)

# How a call ended (ivr/flows/state.py OUTCOMES), as agents say it.
ENDED = {
    "hung_up": "hung up",
    "gave_up": "gave up",
    "helped": "found what they needed",
    "message_left": "left a message",
    "transferred": "spoke with an agent",
    None: "still going, or no end recorded",
}


@dataclass(frozen=True)
class Contact:
    at: dt.datetime
    kind: str  # "message" | "callback" (a request to be called back) | "call"
    did: str  # what they did, in words
    ended: str  # how it ended (a call), or where the message is (a message)
    message_id: int | None = None


@dataclass(frozen=True)
class Earlier:
    """A caller's other contact, seen from when the message was left: what came before it (the newest
    `shown`, and how many more), what came after it ("since then"), and the week before it."""

    contacts: list[Contact]  # before the message, the newest first
    messages_this_week: int  # in the 7 days up to the message, this one included
    calls_this_week: int  # calls that left no message, in the 7 days before the message
    more_before: int = 0  # not in `contacts`
    since: list[Contact] = field(default_factory=list)  # after the message, the oldest first
    more_since: int = 0


def earlier(session: Session, message: Message, customer: Customer | None, shown: int = SHOWN) -> Earlier:
    """The caller's other messages and calls, measured from when `message` was left (not from now):
    a message read days later still says what the caller had tried before leaving it."""
    numbers = {n for n in (message.caller, customer.phone if customer else "") if n}
    same_caller = [Message.caller.in_(numbers)] if numbers else []
    if customer is not None:
        same_caller.append(Message.customer_id == customer.id)
    if not same_caller:
        return Earlier([], 1, 0)
    left = message.created_at
    theirs = select(Message).where(or_(*same_caller), Message.status != "replaced", Message.id != message.id)
    # Calls that left no message (a message says its call itself), from the caller's numbers.
    with_message = select(Message.call_sid).where(or_(*same_caller))
    calls = select(Call).where(Call.from_number.in_(numbers), Call.call_sid != message.call_sid,
                               Call.call_sid.not_in(with_message)) if numbers else None  # fmt: skip
    before = _contacts(session, theirs.where(Message.created_at < left), calls, Call.started_at < left, shown, True)
    since = _contacts(session, theirs.where(Message.created_at >= left), calls, Call.started_at >= left, shown, False)
    week_before = left - WEEK
    in_week = session.scalar(select(func.count()).select_from(
        theirs.where(Message.created_at >= week_before, Message.created_at < left).subquery()))  # fmt: skip
    calls_in_week = (
        session.scalar(
            select(func.count()).select_from(
                calls.where(Call.started_at >= week_before, Call.started_at < left).subquery()
            )
        )  # fmt: skip
        if calls is not None
        else 0
    )
    return Earlier(before[0], (in_week or 0) + 1, calls_in_week or 0, before[1], since[0], since[1])


def _contacts(session: Session, messages: Select, calls: Select | None, call_when, shown: int,  # type: ignore[no-untyped-def,type-arg]
              newest_first: bool) -> tuple[list[Contact], int]:  # fmt: skip
    """The `shown` contacts nearest the message (of `messages`, and of `calls` where `call_when`), and
    how many more there are."""
    order = (Message.created_at.desc(), Message.id.desc()) if newest_first else (Message.created_at, Message.id)
    found = [
        Contact(as_utc(m.created_at), "callback" if m.channel == "callback" else "message",
                _first(story(list(m.path or []))) or "left a message",
                m.status.replace("_", " "), m.id)
        for m in session.scalars(messages.order_by(*order).limit(shown))
    ]  # fmt: skip
    total = session.scalar(select(func.count()).select_from(messages.subquery())) or 0
    if calls is not None:
        when = calls.where(call_when)
        by = Call.started_at.desc() if newest_first else Call.started_at
        found += [
            Contact(as_utc(c.started_at), "call", _first(story(path_of(c.events or []))) or "called",
                    ENDED.get(c.outcome, c.outcome or ""))
            for c in session.scalars(when.order_by(by).limit(shown))
        ]  # fmt: skip
        total += session.scalar(select(func.count()).select_from(when.subquery())) or 0
    found.sort(key=lambda c: c.at, reverse=newest_first)
    return found[:shown], total - min(shown, len(found))


def _first(steps: list[str]) -> str:
    """What the contact was about: its first two steps."""
    return " · ".join(steps[:2])


def ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}.get(n, f"{n}th")
