"""A caller's earlier contact with the line, for the message page: "third message this week".

Their other messages (left from the same number, or by the same verified customer) and their calls
(from the same number, or from the customer's number on file), newest first, each with when, what
they did and how it ended.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
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
    kind: str  # "message" | "call"
    did: str  # what they did, in words
    ended: str  # how it ended (a call), or where the message is (a message)
    message_id: int | None = None


@dataclass(frozen=True)
class Earlier:
    contacts: list[Contact]  # the newest SHOWN
    messages_this_week: int  # this one included
    calls_this_week: int  # calls that left no message


def earlier(session: Session, message: Message, customer: Customer | None, now: dt.datetime) -> Earlier:
    numbers = {n for n in (message.caller, customer.phone if customer else "") if n}
    same_caller = []
    if numbers:
        same_caller.append(Message.caller.in_(numbers))
    if customer is not None:
        same_caller.append(Message.customer_id == customer.id)
    if not same_caller:
        return Earlier([], 1, 0)
    messages = session.scalars(
        select(Message)
        .where(or_(*same_caller), Message.status != "replaced")
        .order_by(Message.created_at.desc())
        .limit(SHOWN + 50)
    ).all()
    calls = (
        session.scalars(
            select(Call).where(Call.from_number.in_(numbers)).order_by(Call.started_at.desc()).limit(SHOWN + 50)
        ).all()
        if numbers
        else []
    )
    with_message = {m.call_sid for m in messages}
    calls = [c for c in calls if c.call_sid not in with_message and c.call_sid != message.call_sid]  # said once
    week_ago = now - WEEK
    contacts = [
        Contact(as_utc(m.created_at), "message", _first(story(list(m.path or []))) or "left a message",
                m.status.replace("_", " "), m.id)
        for m in messages if m.id != message.id
    ]  # fmt: skip
    contacts += [
        Contact(
            as_utc(c.started_at),
            "call",
            _first(story(path_of(c.events or []))) or "called",
            ENDED.get(c.outcome, c.outcome or ""),
        )
        for c in calls
    ]
    contacts.sort(key=lambda c: c.at, reverse=True)
    return Earlier(
        contacts[:SHOWN],
        messages_this_week=sum(as_utc(m.created_at) >= week_ago for m in messages),
        calls_this_week=sum(as_utc(c.started_at) >= week_ago for c in calls),
    )


def _first(steps: list[str]) -> str:
    """What the contact was about: its first two steps."""
    return " · ".join(steps[:2])


def ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}.get(n, f"{n}th")
