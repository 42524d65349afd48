"""The messages queue: what agents see and do, for the pages and the JSON API alike.

Claiming is one conditional UPDATE, so two agents can never both hold a message. Every action is
written to the message's history with who did it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, selectinload

from ivr.agents import contacts
from ivr.agents.story import story
from ivr.errors import IVRError
from ivr.hours import OpeningHours
from ivr.languages import line_languages
from ivr.messages import callbacks, search
from ivr.messages.words import no_model_note, transcript_uncertain, transcript_words
from ivr.models import (
    Agent,
    Call,
    Customer,
    InsightVersion,
    LineVersion,
    Message,
    MessageHistory,
    MessageNote,
    Order,
    as_utc,
    utcnow,
)
from ivr.prompts import Catalog

# Filters of the queue; "open" (new, then in progress) is the default view.
FILTERS = ("open", "new", "mine", "in_progress", "done", "all")
MAX_NOTE = 5000
# Control characters a note cannot keep (line breaks and tabs it can).
NOT_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class QueueError(IVRError):
    """An action that cannot be done (already claimed, an empty note...): said to the agent as is."""


class NoSuchMessage(QueueError):
    """A message id that is not in the queue (the API answers 404)."""


class Refused(QueueError):
    """What was sent cannot be recorded (a result that is not one, a time outside opening hours):
    the API answers 400."""


class NotYours(QueueError):
    """The message is held by another agent: take it over first (the API answers 409)."""


@dataclass(frozen=True)
class Caller:
    """Who called: the customer the call verified, or the one whose number it came from (unverified)."""

    customer: Customer | None
    verified: bool


def _visible():  # type: ignore[no-untyped-def]
    return Message.status != "replaced"


def _filter(show: str, agent_id: int):  # type: ignore[no-untyped-def]
    return {
        "open": Message.status.in_(("new", "in_progress")),
        "new": Message.status == "new",
        "mine": (Message.assignee_id == agent_id) & (Message.status == "in_progress"),
        "in_progress": Message.status == "in_progress",
        "done": Message.status == "done",
        "all": _visible(),
    }[show]


PAGE_SIZE = 50


def page_number(raw: str) -> int:
    """A page asked for in a URL: ASCII digits, bounded; anything else is the first page."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1


@dataclass(frozen=True)
class Page:
    """One page of a filter (and a search): its messages, how many match in all, and every filter's count."""

    messages: list[Message]
    total: int
    number: int
    pages: int
    counts: dict[str, int]
    searched: bool


def languages(session: Session, settings: dict[str, Any]) -> list[str]:
    """The languages the queue can be filtered by: the line's (its default first), then any other
    that messages were left in (a language the line no longer offers)."""
    offered = line_languages(settings)
    left = session.scalars(select(Message.language).distinct())  # read from 0015's index alone
    return [*offered, *sorted(set(left) - set(offered))]


def listing(
    session: Session,
    show: str,
    agent_id: int,
    query: str = "",
    page: int = 1,
    language: str = "",
    line: tuple[dict[str, Any], Catalog | None] = ({}, None),
    held_by: int | None = None,
    now: dt.datetime | None = None,
) -> Page:
    """A page of the queue. Without a search: callbacks due (by `now`) first, the longest due
    first; then new messages, then those in progress, then done, oldest first within each. With one: the best match first. The counts combine with the search,
    with `language` (only the messages left in it; a code the caller has checked) and with
    `held_by` (an agent's id: the messages they hold or closed). `line`: the line's settings and
    catalog, whose languages' stemmers read the search."""
    if show not in FILTERS:
        raise QueueError(f"There is no filter {show!r}: use one of {', '.join(FILTERS)}.")
    found = search.terms(query, *line)
    searched = bool(query.strip())
    if searched and not found:  # only signs (%, _, *): nothing is a wildcard, so nothing matches
        return Page([], 0, 1, 1, {name: 0 for name in FILTERS}, True)
    everything = counts(session, agent_id, found, language, held_by)
    any_term = len(found) > 1 and everything["all"] == 0  # no message has every word: any of them
    everything = counts(session, agent_id, found, language, held_by, True) if any_term else everything
    total = everything[show]
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(1, page), pages)
    due = _due(now or utcnow())
    order = case((due, 0), (Message.status == "new", 1), (Message.status == "in_progress", 2), else_=3)
    since = case((due, Message.callback_due_at), else_=Message.created_at)
    chosen = select(Message).where(_visible(), _filter(show, agent_id))
    chosen = chosen.where(Message.language == language) if language else chosen
    chosen = chosen.where(Message.assignee_id == held_by) if held_by is not None else chosen
    if found:  # the best match first; of equal ones, the newest
        chosen = search.ranked(session, chosen, found, any_term).order_by(Message.created_at.desc(), Message.id.desc())
    else:
        chosen = chosen.order_by(order, since, Message.id)
    chosen = chosen.options(selectinload(Message.assignee))
    messages = list(session.scalars(chosen.limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)))
    return Page(messages, total, number, pages, everything, searched)


def counts(
    session: Session,
    agent_id: int,
    found: list[tuple[str, ...]] | None = None,
    language: str = "",
    held_by: int | None = None,
    any_term: bool = False,
) -> dict[str, int]:
    """How many messages each filter shows (of those matching the search: every word, or any, in the
    language, held by the agent), from one grouped count."""
    query = select(Message.status, Message.assignee_id, func.count()).group_by(Message.status, Message.assignee_id)
    query = query.where(Message.language == language) if language else query
    query = query.where(Message.assignee_id == held_by) if held_by is not None else query
    rows = session.execute(query.where(search.condition(session, found, any_term)) if found else query).all()
    by_status: dict[str, int] = {}
    held = 0
    for status, assignee, count in rows:  # a row per status and agent: read from one index
        if status == "replaced":
            continue
        by_status[status] = by_status.get(status, 0) + count
        held += count if assignee == agent_id and status == "in_progress" else 0
    new, in_progress, done = (by_status.get(s, 0) for s in ("new", "in_progress", "done"))
    totals = {"open": new + in_progress, "new": new, "mine": held, "in_progress": in_progress, "done": done,
              "all": sum(by_status.values())}  # fmt: skip
    return {show: totals[show] for show in FILTERS}


def _due(now: dt.datetime):  # type: ignore[no-untyped-def]
    """Callbacks whose call should be made by `now` (ivr/messages/callbacks.py)."""
    return (Message.callback_due_at <= now) & Message.status.in_(("new", "in_progress"))


def callbacks_due(session: Session, now: dt.datetime) -> int:
    """How many callbacks should be made now (read from the due time's index)."""
    return session.scalar(select(func.count()).select_from(Message).where(_due(now))) or 0


def oldest_new(session: Session) -> dt.datetime | None:
    """When the oldest new (unclaimed) message was left."""
    oldest = session.scalar(select(func.min(Message.created_at)).where(Message.status == "new"))
    return None if oldest is None else as_utc(oldest)


def next_new(session: Session, after: int, now: dt.datetime | None = None) -> int | None:
    """The message to work on next, once message `after` is done: the longest due callback, else
    the oldest new message besides it."""
    due = _due(now or utcnow())
    query = select(Message.id).where(Message.status == "new", Message.id != after)
    first = case((due, 0), else_=1), case((due, Message.callback_due_at), else_=Message.created_at)
    return session.scalar(query.order_by(*first, Message.id).limit(1))


def oldest_waiting(session: Session, now: dt.datetime) -> dt.timedelta | None:
    """How long the oldest new (unclaimed) message has waited."""
    oldest = oldest_new(session)
    return None if oldest is None else now - oldest


def version(session: Session, now: dt.datetime | None = None) -> str:
    """Changes whenever anything about any message does (one index lookup), and when a callback
    falls due (the queue's order changes then): what a poll's ETag is made from. Messages are never
    deleted, so the newest change time is enough."""
    newest = session.scalar(select(func.max(Message.changed_at)))
    if newest is None:
        return ""
    return f"{as_utc(newest).isoformat()}/{callbacks_due(session, now or utcnow())}"


def get(session: Session, message_id: int) -> Message:
    message = session.get(Message, message_id)
    if message is None or message.status == "replaced":
        raise NoSuchMessage(f"There is no message {message_id}: it may have been recorded again; look in the queue.")
    return message


def caller_of(session: Session, message: Message) -> Caller:
    return callers_of(session, [message])[message.id]


def callers_of(session: Session, messages: list[Message]) -> dict[int, Caller]:
    """Who called, for a page of messages at once (two queries, whatever the page's size)."""
    ids = {m.customer_id for m in messages if m.customer_id is not None}
    numbers = {m.caller for m in messages if m.customer_id is None and m.caller}
    by_id = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(ids)))} if ids else {}
    by_number: dict[str, Customer] = {}
    if numbers:
        for customer in session.scalars(select(Customer).where(Customer.phone.in_(numbers)).order_by(Customer.id)):
            by_number.setdefault(customer.phone, customer)
    return {
        m.id: Caller(by_id.get(m.customer_id), True)
        if m.customer_id is not None
        else Caller(by_number.get(m.caller), False)
        for m in messages
    }


def orders_of(session: Session, customer: Customer | None) -> list[Order]:
    if customer is None:
        return []
    return list(session.scalars(select(Order).where(Order.customer_id == customer.id).order_by(Order.number)))


def order_given(session: Session, message: Message) -> Order | None:
    """The order whose number the caller typed or said in the message's call, if there is one."""
    collected = session.scalar(select(Call.collected).where(Call.call_sid == message.call_sid))
    number = str((collected or {}).get("order_number") or "") if isinstance(collected, dict) else ""
    return session.scalar(select(Order).where(Order.number == number)) if number.isdigit() else None


@dataclass(frozen=True)
class Heard:
    """The version of the line a message's call heard (ivr/versions.py), and that version's figures
    so far (the calls the worker has summarised): what the desk shows beside the caller's path."""

    version: str
    first_heard: dt.datetime | None
    calls: int
    helped: int
    solved: int
    surveyed: int


def version_heard(session: Session, message: Message) -> Heard | None:
    """The version the message's call heard, with its figures; None for a call from before versions
    (or a message written on the web)."""
    version = session.scalar(select(Call.version).where(Call.call_sid == message.call_sid))
    if not version:
        return None
    first = session.scalar(select(LineVersion.first_heard).where(LineVersion.id == version))
    sums = session.execute(
        select(func.sum(InsightVersion.calls), func.sum(InsightVersion.helped), func.sum(InsightVersion.survey_yes),
               func.sum(InsightVersion.survey_yes + InsightVersion.survey_no))
        .where(InsightVersion.version == version)
    ).one()  # fmt: skip
    calls, helped, solved, surveyed = (int(n or 0) for n in sums)
    return Heard(version, as_utc(first) if first else None, calls, helped, solved, surveyed)


def add_history(session: Session, message: Message, agent: Agent | None, action: str, detail: str = "") -> None:
    """An action in the message's history; one by an agent touches it (its claim is not stale)."""
    session.add(
        MessageHistory(message_id=message.id, agent_id=agent.id if agent else None, action=action, detail=detail)
    )
    if agent is not None:
        message.touched_at = utcnow()


def claim(session: Session, message_id: int, agent: Agent) -> Message:
    message = get(session, message_id)
    claimed = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == "new", Message.assignee_id.is_(None))
        .values(status="in_progress", assignee_id=agent.id)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(message)
        if message.status == "in_progress" and message.assignee_id == agent.id:
            raise QueueError(f"Message {message_id} is already yours.")
        holder = message.assignee.name if message.assignee else "someone"
        if message.status == "done":
            raise QueueError(f"Message {message_id} is already done, by {holder}: reopen it to work on it again.")
        raise QueueError(
            f"Message {message_id} is already in progress, with {holder}: take it over if you are to work on it."
        )
    session.refresh(message)
    add_history(session, message, agent, "claimed")
    return message


def take_over(session: Session, message_id: int, agent: Agent) -> Message:
    """The claim moves to this agent, from whoever held it (who may be away): written in the history.
    One conditional UPDATE, so two agents taking over at once cannot both succeed."""
    message = get(session, message_id)
    if message.status == "new":
        return claim(session, message_id, agent)
    if message.status != "in_progress":
        raise QueueError(f"Message {message_id} is done: there is no claim to take over. Reopen it instead.")
    if message.assignee_id == agent.id:
        raise QueueError(f"Message {message_id} is already yours.")
    previous = message.assignee.name if message.assignee else "nobody"
    moved = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == "in_progress", Message.assignee_id == message.assignee_id)
        .values(assignee_id=agent.id)
    )
    session.refresh(message)
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise QueueError(f"Message {message_id} changed hands just now: look at it again.")
    add_history(session, message, agent, "took over", f"from {previous}")
    return message


def note_replied(session: Session, message_id: int, agent: Agent, text: str) -> None:
    """An answer sent by e-mail: in the history, with what it said, and the message is touched."""
    message = get(session, message_id)
    add_history(session, message, agent, "replied", f"by e-mail to {message.contact_email}: {text}"[:MAX_NOTE])


def must_hold(message: Message, agent: Agent, doing: str) -> None:
    """`_must_hold`, for a page that checks before it acts."""
    _must_hold(message, agent, doing)


def _must_hold(message: Message, agent: Agent, doing: str) -> None:
    """Done and call-back are for the agent who holds the message: another agent takes it over first."""
    if message.status == "in_progress" and message.assignee_id not in (None, agent.id):
        holder = message.assignee.name if message.assignee else "another agent"
        raise NotYours(f"{holder} holds message {message.id}: take it over first to {doing}.")


def add_note(session: Session, message_id: int, agent: Agent, text: str) -> MessageNote:
    """Notes are open to every agent, whoever holds the message."""
    message = get(session, message_id)
    # Line breaks and tabs stay; NUL (which PostgreSQL refuses) and other control characters go.
    text = NOT_TEXT.sub("", text.replace("\r\n", "\n")).strip()
    if not text:
        raise QueueError("The note is empty: type what you want to say, then add it.")
    if len(text) > MAX_NOTE:
        raise QueueError(
            f"The note is {len(text)} characters long; the most is {MAX_NOTE}. Shorten it, or add it as two notes."
        )
    note = MessageNote(message_id=message.id, agent_id=agent.id, text=text)
    session.add(note)
    add_history(session, message, agent, "note")  # touches the message (and so changes it)
    return note


def mark_done(session: Session, message_id: int, agent: Agent) -> Message:
    message = get(session, message_id)
    if message.status == "done":
        raise QueueError(f"Message {message_id} is already done.")
    _must_hold(message, agent, "mark it done")
    message.status = "done"
    message.assignee_id = agent.id
    add_history(session, message, agent, "done")
    return message


def reopen(session: Session, message_id: int, agent: Agent) -> Message:
    """Back to work, with the agent who reopened it."""
    message = get(session, message_id)
    if message.status != "done":
        raise QueueError(f"Message {message_id} is not done, so there is nothing to reopen.")
    message.status, message.assignee_id = "in_progress", agent.id
    add_history(session, message, agent, "reopened")
    return message


def calling_back(session: Session, message_id: int, agent: Agent) -> Message:
    """Before a call-back: the message must be this agent's, or new (then the call-back claims it)."""
    message = get(session, message_id)
    _must_hold(message, agent, "call the caller back")
    if message.status == "new":
        claim(session, message_id, agent)
    return message


def note_called_back(session: Session, message_id: int, agent: Agent, detail: str) -> None:
    add_history(session, get(session, message_id), agent, "called back", detail)


def note_call_failed(session: Session, message_id: int, agent: Agent, why: str) -> None:
    """A click-to-call that was not made is in the history too, with why (in its own transaction:
    the one that tried was rolled back)."""
    add_history(session, get(session, message_id), agent, "click-to-call failed", why[:MAX_NOTE])


def callback_result(
    session: Session,
    message_id: int,
    agent: Agent,
    result: str,
    line: tuple[dict[str, Any], OpeningHours],
    again: str = "",
    now: dt.datetime | None = None,
) -> str:
    """What a call to a caller who asked for a callback came to, in its history: the agent holds it
    (a new one is claimed first); no answer is tried once more, in opening hours (`again`: when, as
    the agent typed it; blank: an hour on). What happens next, in words."""
    message = get(session, message_id)
    _must_hold(message, agent, "record the call")
    if message.status == "new" and message.callback_due_at is not None:
        claim(session, message_id, agent)
    settings, hours = line
    try:
        then = callbacks.outcome(message, result, now or utcnow(), hours, settings, again)
    except callbacks.CallbackError as error:
        raise Refused(str(error)) from None
    if message.status == "done":
        message.assignee_id = agent.id
    add_history(session, message, agent, "callback", then)
    return then


def number_to_call(message: Message) -> str:
    """Whom a call-back dials: the number a callback request gave, else the caller's."""
    return message.callback_to or message.caller


def touched(message: Message) -> dt.datetime:
    """When an agent last acted on `message` (when it was left, if none has)."""
    return as_utc(message.touched_at or message.created_at)


def claim_is_stale(message: Message, now: dt.datetime, after: dt.timedelta) -> bool:
    """A claim no agent has touched (an action, a note) for `after`: its holder may be away. What
    the worker or a transcript changes does not count."""
    return message.status == "in_progress" and now - touched(message) >= after


def iso(moment: dt.datetime) -> str:
    """ISO 8601 with its offset (UTC), as the API gives every time."""
    return as_utc(moment).isoformat()


def as_dict(session: Session, message: Message, full: bool = False, who: Caller | None = None) -> dict[str, Any]:
    """The message as the JSON API gives it. `touched_at`: when an agent last acted on it (a claim
    untouched for IVR_CLAIM_STALE_HOURS is stale); `changed_at`: when anything about it last changed."""
    who = who or caller_of(session, message)
    data: dict[str, Any] = {
        "id": message.id,
        "created_at": iso(message.created_at),
        "touched_at": iso(touched(message)),
        "changed_at": iso(message.changed_at),
        "caller": message.caller,
        "customer": {
            "id": who.customer.id,
            "name": who.customer.name,
            "account": who.customer.account_number,
            "verified": who.verified,
        }
        if who.customer
        else None,  # fmt: skip
        "reason": message.reason,
        # The problem the caller reported, in words the team acts on ("" for none).
        "case": message.case,
        "branch": message.branch,
        "duration_seconds": message.duration_seconds,
        "language": message.language,
        "status": message.status,
        "assignee": message.assignee.name if message.assignee else None,
        "audio": {
            "status": message.audio_status,
            "twilio_url": message.recording_url,
            "error": message.audio_error or None,
        },  # fmt: skip
        "callback": _callback(message),
        "transcript": {
            "status": message.transcript_status,
            "text": message.transcript,
            "error": message.transcript_error or None,
            # Each word with the recogniser's confidence (0..1); "uncertain" when most are below 0.5.
            "words": [{"word": w, "confidence": round(c, 3)} for w, c, _ in transcript_words(message.transcript_words)],
            "uncertain": transcript_uncertain(message.transcript_words),
            # Why there is no transcript when none will be made ("no_model": no model hears the language).
            "note": no_model_note(message.language) if message.transcript_status == "no_model" else None,
        },  # fmt: skip
    }
    if full:
        data["path"] = list(message.path or [])
        data["story"] = story(data["path"])
        other = contacts.earlier(session, message, who.customer)
        data["earlier"], data["since"] = (
            [{"at": iso(c.at), "kind": c.kind, "did": c.did, "ended": c.ended, "message_id": c.message_id}
             for c in listed]
            for listed in (other.contacts, other.since)
        )  # fmt: skip
        data["more_earlier"], data["more_since"] = other.more_before, other.more_since
        data["orders"] = [{"number": o.number, "status": o.status} for o in orders_of(session, who.customer)]
        data["notes"] = [{"agent": n.agent.name, "text": n.text, "at": iso(n.created_at)} for n in message.notes]
        data["history"] = [{"agent": h.agent.name if h.agent else None, "action": h.action, "detail": h.detail,
                            "at": iso(h.at)} for h in message.history]  # fmt: skip
    return data


def _callback(message: Message) -> dict[str, Any] | None:
    """A callback request's own facts (None for a message): whom to call, the time the caller
    chose, when the next call is due (None: nothing left to try), the calls made and the last result."""
    if message.channel != "callback":
        return None
    return {
        "number": message.callback_to,
        "at": iso(message.callback_at) if message.callback_at else None,
        "due_at": iso(message.callback_due_at) if message.callback_due_at else None,
        "tries": message.callback_tries,
        "result": message.callback_result or None,
        "on_time": callbacks.on_time(message) if message.callback_first_try_at else None,
    }
