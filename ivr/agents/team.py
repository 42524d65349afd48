"""What a supervisor sees and does: everyone's workload, and giving a message to someone else."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.agents.queue import QueueError, add_history, get
from ivr.models import Agent, Message, MessageHistory, as_utc
from ivr.security import clean


@dataclass(frozen=True)
class Workload:
    name: str
    role: str
    holding: int  # messages in progress with them
    oldest_touch: dt.datetime | None  # the least recently touched of those (by an agent)
    done_today: int


def day_starts(hours, now: dt.datetime) -> dt.datetime:  # type: ignore[no-untyped-def]
    """Midnight today on the line's clock, in UTC: where "done today" begins."""
    return hours.local(now).replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)


def workload(session: Session, day_starts: dt.datetime) -> list[Workload]:
    """Every enabled agent: what they hold, how stale it is, what they closed since `day_starts`."""
    held = {
        agent_id: (count, oldest)
        for agent_id, count, oldest in session.execute(
            select(Message.assignee_id, func.count(), func.min(Message.touched_at))
            .where(Message.status == "in_progress")
            .group_by(Message.assignee_id)
        )
    }
    done = dict(
        session.execute(
            select(MessageHistory.agent_id, func.count())
            .where(MessageHistory.action == "done", MessageHistory.at >= day_starts)
            .group_by(MessageHistory.agent_id)
        ).all()
    )
    agents = session.scalars(select(Agent).where(Agent.disabled.is_(False)).order_by(Agent.name)).all()
    return [
        Workload(a.name, a.role, held.get(a.id, (0, None))[0],
                 as_utc(held[a.id][1]) if a.id in held and held[a.id][1] else None, done.get(a.id, 0))
        for a in agents
    ]  # fmt: skip


def colleagues(session: Session) -> list[Agent]:
    """Who a message can be given to."""
    return list(session.scalars(select(Agent).where(Agent.disabled.is_(False)).order_by(Agent.name)))


def reassign(session: Session, message_id: int, supervisor: Agent, to_name: str) -> Message:
    """The message goes to another agent (in progress, theirs), written in the history."""
    if supervisor.role != "supervisor":
        raise NotASupervisor("Only a supervisor can give a message to someone else; take it over instead.")
    message = get(session, message_id)
    to_name = clean(to_name)[:80]  # a name typed or sent: no NUL (PostgreSQL refuses it) or control characters
    to = session.scalar(select(Agent).where(Agent.name == to_name, Agent.disabled.is_(False)))
    if to is None:
        raise QueueError(f"There is no agent named {to_name!r} who can take it.")
    if message.status == "done":
        raise QueueError(f"Message {message_id} is done: reopen it first.")
    if message.assignee_id == to.id and message.status == "in_progress":
        raise QueueError(f"Message {message_id} is already with {to.name}.")
    previous = message.assignee.name if message.assignee and message.status == "in_progress" else "nobody"
    message.status, message.assignee_id = "in_progress", to.id
    add_history(session, message, supervisor, "reassigned", f"from {previous} to {to.name}")
    return message


class NotASupervisor(QueueError):
    """An agent asked for what only a supervisor may do (the API answers 403)."""
