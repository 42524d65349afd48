"""The figures for a period (days in the line's time zone), read from the aggregates rollup.py keeps.

The page, its CSV tables and GET /agent/api/insights all show exactly these.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ivr.experiments import Comparison, compare
from ivr.hours import OpeningHours
from ivr.insights.rollup import question_key
from ivr.messages.callbacks import ON_TIME
from ivr.models import (
    Agent,
    Experiment,
    FaqQuery,
    HelpEvent,
    InsightAsked,
    InsightDay,
    InsightExperiment,
    InsightHour,
    InsightPrompt,
    InsightVersion,
    LineVersion,
    Message,
    MessageHistory,
    as_utc,
)
from ivr.speech.matching import ENGLISH

# How a call ended (ivr.flows.state.OUTCOMES), as the API names them.
OUTCOME_NAMES = {"helped": "helped", "transferred": "transferred", "message_left": "message", "gave_up": "gave_up",
                 "hung_up": "hung_up"}  # fmt: skip


@dataclass(frozen=True)
class Day:
    day: dt.date
    calls: int
    helped: int
    # Of the helped, those whose caller called again within 24 hours: not contained.
    helped_called_again: int = 0

    @property
    def containment(self) -> float:
        return (self.helped - self.helped_called_again) / self.calls if self.calls else 0.0


@dataclass(frozen=True)
class Heard:
    """The calls of the period that heard one version of the line (ivr/versions.py)."""

    version: str
    language: str
    first_heard: dt.datetime | None
    calls: int
    helped: int
    surveyed: int
    solved: int
    not_solved: int

    @property
    def helped_share(self) -> float:
        return self.helped / self.calls if self.calls else 0.0


@dataclass(frozen=True)
class Prompt:
    """One prompt (a node that waits for the caller) in the drop-off funnel."""

    node: str
    reached: int  # calls that heard it
    went_on: int  # calls that answered it and moved on
    hung_up: int  # calls that ended while it waited
    to_person: int  # calls that asked for a person there
    not_understood: int  # answers there that matched nothing (no match), steps
    voice: int  # answers there by voice, steps
    voice_missed: int  # of those, not understood, steps


@dataclass(frozen=True)
class Asked:
    """Questions the knowledge base did not answer or did not help with, grouped by their words."""

    key: str  # the group's normalised words
    sample: str  # one question as a caller put it
    asked: int
    not_found: int
    not_helped: int
    language: str
    # Where it was asked: "phone", or "web" (a search of the help centre that found nothing).
    channel: str = "phone"
    # The day it was last asked (the line's time zone): an entry made or changed since may handle it.
    last: dt.date | None = None


@dataclass(frozen=True)
class AgentLoad:
    agent: str
    closed: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class Messages:
    received: int
    closed: int
    median_hours: float | None  # time from left to closed, of those closed in the period
    p90_hours: float | None
    oldest_open: dt.datetime | None
    per_agent: tuple[AgentLoad, ...] = ()


@dataclass(frozen=True)
class Votes:
    """Whether one answer helped: online ("Was this helpful?") beside the phone ("did that answer
    your question?")."""

    slug: str
    language: str
    web_yes: int = 0
    web_no: int = 0
    phone_yes: int = 0
    phone_no: int = 0


@dataclass(frozen=True)
class Web:
    """What visitors of the help centre did: searches and what they got, answers read, votes (and
    on no, why), messages sent to the team."""

    searches: int = 0
    answered: int = 0
    options: int = 0
    none: int = 0
    reads: int = 0
    helpful: int = 0
    not_helpful: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    messages: int = 0
    votes: tuple[Votes, ...] = ()


@dataclass(frozen=True)
class Callbacks:
    """Callbacks callers asked for in the period: how many, how many were called, the first call
    on time (within an hour of the time due, ivr/messages/callbacks.py), and how many were reached."""

    requested: int = 0
    called: int = 0
    on_time: int = 0
    reached: int = 0


@dataclass(frozen=True)
class Arm:
    """The calls of one arm of an experiment that heard its prompt or answer, and how they went."""

    heard: int = 0
    helped: int = 0
    dropped: int = 0
    surveyed: int = 0
    solved: int = 0
    not_solved: int = 0

    def as_json(self) -> dict[str, Any]:
        rate = lambda n: n / self.heard if self.heard else 0.0  # noqa: E731
        return {"calls": self.heard, "helped": self.helped, "containment": rate(self.helped),
                "dropped": self.dropped, "drop_off": rate(self.dropped),
                "survey": {"asked": self.surveyed, "solved": self.solved, "not_solved": self.not_solved}}  # fmt: skip


@dataclass(frozen=True)
class Tried:
    """An experiment (ivr/experiments.py) with its arms' figures in the period, and what they say."""

    id: int
    kind: str
    language: str
    target: str
    text: str
    share: int
    started_at: dt.datetime
    ended_at: dt.datetime | None
    original: Arm
    variant: Arm
    comparison: Comparison


@dataclass(frozen=True)
class Figures:
    start: dt.date  # first day, in the line's time zone
    end: dt.date  # last day, included
    calls: int
    outcomes: dict[str, int]  # keys of OUTCOME_NAMES' values: helped, transferred, message, gave_up, hung_up
    days: tuple[Day, ...]  # every day of the period, oldest first (0 calls included)
    prompts: tuple[Prompt, ...]  # the main paths' prompts, most reached first
    asked: tuple[Asked, ...]  # most asked first
    messages: Messages
    # calls by weekday (0 = Monday) and hour (0-23, local): hours[weekday][hour]
    hours: tuple[tuple[int, ...], ...] = field(default_factory=lambda: tuple((0,) * 24 for _ in range(7)))
    # open[weekday][hour]: whether agents take calls then (opening hours), for the heat map
    open: tuple[tuple[bool, ...], ...] = field(default_factory=lambda: tuple((False,) * 24 for _ in range(7)))
    voice_steps: int = 0
    steps: int = 0
    # Calls followed by another call from the same number within 24 hours, and of those the helped.
    called_again: int = 0
    helped_called_again: int = 0
    web: Web = field(default_factory=Web)
    # Callers asked "did we solve what you called about?" after self-service, and how they answered.
    surveyed: int = 0
    solved: int = 0
    not_solved: int = 0
    # Per version of the line the calls heard, the newest first.
    versions: tuple[Heard, ...] = ()
    callbacks: Callbacks = field(default_factory=Callbacks)
    # Experiments running in the period or heard in it, the newest first.
    experiments: tuple[Tried, ...] = ()

    @property
    def contained(self) -> int:
        """Calls that helped themselves: helped, and the caller did not call again within 24 hours."""
        return self.outcomes.get("helped", 0) - self.helped_called_again

    @property
    def containment(self) -> float:
        """Contained / calls: the share of callers who helped themselves."""
        return self.contained / self.calls if self.calls else 0.0


# ---- reading them ------------------------------------------------------------------------------

TOP_ASKED = 20


def _local_midnight(hours: OpeningHours, day: dt.date) -> dt.datetime:
    """The start of `day` on the line's clock, in UTC (a day is 23 or 25 hours when the clocks change)."""
    return dt.datetime.combine(day, dt.time(), hours.zone).astimezone(dt.UTC)


def _open_hours(hours: OpeningHours) -> tuple[tuple[bool, ...], ...]:
    """Whether any open span of a weekday overlaps each of its hours."""

    def minutes(at: dt.time) -> int:
        return 24 * 60 if at == dt.time.max else at.hour * 60 + at.minute

    return tuple(
        tuple(any(minutes(s) < (h + 1) * 60 and minutes(e) > h * 60 for s, e in spans) for h in range(24))
        for spans in hours.weekly
    )


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _p90(values: list[float]) -> float | None:
    """The 90th percentile, nearest rank: the smallest value at least 90% of the values do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


def _messages(session: Session, since: dt.datetime, until: dt.datetime) -> Messages:
    """Messages left in the period, closed in it (by the agent who marked each done, its last close in
    the period), and the oldest still open now. Indexed columns only."""
    received = session.scalar(
        select(func.count()).select_from(Message)
        .where(Message.status != "replaced", Message.created_at >= since, Message.created_at < until)
    )  # fmt: skip
    # Hours from left to done worked out by the database, and read without the ORM: a busy month has
    # tens of thousands of closes.
    if session.get_bind().dialect.name == "postgresql":
        waited = func.extract("epoch", MessageHistory.at - Message.created_at) / 3600.0
    else:
        waited = (func.julianday(MessageHistory.at) - func.julianday(Message.created_at)) * 24.0
    closes = session.connection().execute(
        select(MessageHistory.message_id, waited, MessageHistory.agent_id)
        .join(Message, Message.id == MessageHistory.message_id)
        .where(MessageHistory.action == "done", MessageHistory.at >= since, MessageHistory.at < until)
        .order_by(MessageHistory.at, MessageHistory.id)
    )
    last: dict[int, tuple[float, int | None]] = {}
    for message_id, hours, agent_id in closes:
        # To the second: julianday's arithmetic is a few microseconds off.
        last[message_id] = (max(round(float(hours or 0.0) * 3600), 0) / 3600, agent_id)
    names: dict[int | None, str] = {agent_id: name for agent_id, name in session.execute(select(Agent.id, Agent.name))}
    last_named = {message_id: (hours, names.get(agent_id, "")) for message_id, (hours, agent_id) in last.items()}
    per_agent: dict[str, list[float]] = {}
    for hours, agent in last_named.values():
        per_agent.setdefault(agent, []).append(hours)
    oldest = session.scalar(select(func.min(Message.created_at)).where(Message.status.in_(("new", "in_progress"))))
    times = [hours for hours, _agent in last_named.values()]
    return Messages(
        received=int(received or 0),
        closed=len(last),
        median_hours=_median(times),
        p90_hours=_p90(times),
        oldest_open=as_utc(oldest) if oldest is not None else None,
        per_agent=tuple(
            AgentLoad(agent, len(waits), _median(waits), _p90(waits))
            for agent, waits in sorted(per_agent.items(), key=lambda item: (-len(item[1]), item[0]))
        ),
    )


ON_TIME_DAYS = ON_TIME / dt.timedelta(days=1)


def _callbacks(session: Session, since: dt.datetime, until: dt.datetime) -> Callbacks:
    """The period's callback requests, counted by the database in one pass."""
    tried = Message.callback_first_try_at.is_not(None)
    late = Message.callback_at + ON_TIME if session.get_bind().dialect.name == "postgresql" else None
    in_time = (
        Message.callback_first_try_at <= late
        if late is not None
        else func.julianday(Message.callback_first_try_at) <= func.julianday(Message.callback_at) + ON_TIME_DAYS
    )
    count = lambda condition: func.sum(case((condition, 1), else_=0))  # noqa: E731
    row = session.execute(
        select(func.count(), count(tried), count(tried & in_time), count(Message.callback_result == "reached"))
        .where(Message.channel == "callback", Message.created_at >= since, Message.created_at < until)
    ).one()  # fmt: skip
    return Callbacks(*(int(n or 0) for n in row))


def _web(session: Session, since: dt.datetime, until: dt.datetime) -> Web:
    """The help centre's figures for the period, from its events and the messages written on it."""
    in_period = and_(HelpEvent.at >= since, HelpEvent.at < until)
    counts = dict(
        session.execute(
            select(HelpEvent.kind + ":" + HelpEvent.outcome, func.count()).where(in_period)
            .group_by(HelpEvent.kind, HelpEvent.outcome)
        ).all()
    )  # fmt: skip
    votes: dict[tuple[str, str], dict[str, int]] = {}
    reasons: dict[str, int] = {}
    for slug, language, helpful, reason, n in session.execute(
        select(HelpEvent.slug, HelpEvent.language, HelpEvent.helpful, HelpEvent.reason, func.count())
        .where(in_period, HelpEvent.kind == "vote")
        .group_by(HelpEvent.slug, HelpEvent.language, HelpEvent.helpful, HelpEvent.reason)
    ):
        votes.setdefault((slug, language), {})["web_yes" if helpful else "web_no"] = (
            votes.get((slug, language), {}).get("web_yes" if helpful else "web_no", 0) + n
        )
        if not helpful and reason:
            reasons[reason] = reasons.get(reason, 0) + n
    for slug, language, helpful, n in session.execute(
        select(FaqQuery.answered_slug, FaqQuery.language, FaqQuery.helpful, func.count())
        .where(FaqQuery.at >= since, FaqQuery.at < until, FaqQuery.helpful.is_not(None))
        .group_by(FaqQuery.answered_slug, FaqQuery.language, FaqQuery.helpful)
    ):
        if slug:
            name = "phone_yes" if helpful else "phone_no"
            votes.setdefault((slug, language), {})[name] = votes.get((slug, language), {}).get(name, 0) + n
    messages = session.scalar(
        select(func.count()).select_from(Message)
        .where(Message.channel == "web", Message.created_at >= since, Message.created_at < until)
    )  # fmt: skip
    yes = sum(v.get("web_yes", 0) for v in votes.values())
    no = sum(v.get("web_no", 0) for v in votes.values())
    return Web(
        searches=sum(n for key, n in counts.items() if key.startswith("search:")),
        answered=counts.get("search:answer", 0),
        options=counts.get("search:options", 0),
        none=counts.get("search:none", 0),
        reads=counts.get("read:", 0),
        helpful=yes,
        not_helpful=no,
        reasons=reasons,
        messages=int(messages or 0),
        votes=tuple(
            Votes(slug, language, **found)
            for (slug, language), found in sorted(votes.items(), key=lambda item: (-sum(item[1].values()), item[0]))
        ),
    )


def _day(value: object) -> dt.date | None:
    """A day read back from an aggregate (SQLite may give it as text)."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value if isinstance(value, dt.date) else None


def _web_unanswered(
    session: Session, since: dt.datetime, until: dt.datetime, catalog: Any, hours: OpeningHours
) -> list[Asked]:
    """The help centre's searches that found nothing, grouped by their words as callers' questions are."""
    groups: dict[tuple[str, str], list[str]] = {}
    last: dict[tuple[str, str], dt.date] = {}
    for asked, language, at in session.execute(
        select(HelpEvent.asked, HelpEvent.language, HelpEvent.at).where(
            HelpEvent.kind == "search", HelpEvent.outcome == "none", HelpEvent.at >= since, HelpEvent.at < until
        )
    ):
        try:
            words = catalog.words(language) if catalog is not None else ENGLISH
        except Exception:  # a language no catalog has any more
            words = ENGLISH
        group = (language, question_key(asked, words))
        groups.setdefault(group, []).append(asked)
        day = hours.local(as_utc(at)).date()
        last[group] = max(last.get(group, day), day)
    return [
        Asked(key, min(said), len(said), len(said), 0, language, "web", last[(language, key)])
        for (language, key), said in groups.items()
    ]


def figures(session: Session, settings: dict[str, Any], start: dt.date, end: dt.date, catalog: Any = None) -> Figures:
    """The figures of the days `start` to `end` (both included, the line's time zone)."""
    hours = OpeningHours.from_settings(settings)
    in_period = lambda column: and_(column >= start, column <= end)  # noqa: E731
    outcomes = dict.fromkeys(OUTCOME_NAMES.values(), 0)
    per_day: dict[dt.date, list[int]] = {}
    steps = voice_steps = 0
    day_columns = [getattr(InsightDay, name) for name in OUTCOME_NAMES]
    called_again = helped_called_again = 0
    rows = session.execute(
        select(InsightDay.day, func.sum(InsightDay.calls), func.sum(InsightDay.steps), func.sum(InsightDay.voice_steps),
               func.sum(InsightDay.called_again), func.sum(InsightDay.helped_called_again),
               *(func.sum(c) for c in day_columns))
        .where(in_period(InsightDay.day)).group_by(InsightDay.day)
    ).all()  # fmt: skip
    for day, calls, day_steps, day_voice, again, helped_again, *counts in rows:
        per_day[day] = [int(calls or 0), int(counts[0] or 0), int(helped_again or 0)]
        steps, voice_steps = steps + int(day_steps or 0), voice_steps + int(day_voice or 0)
        called_again, helped_called_again = called_again + int(again or 0), helped_called_again + int(helped_again or 0)
        for name, count in zip(OUTCOME_NAMES.values(), counts, strict=True):
            outcomes[name] += int(count or 0)
    days = tuple(
        Day(start + dt.timedelta(days=n), *per_day.get(start + dt.timedelta(days=n), [0, 0, 0]))
        for n in range((end - start).days + 1)
    )

    surveyed, solved, not_solved = (int(n or 0) for n in session.execute(
        select(func.sum(InsightDay.surveyed), func.sum(InsightDay.survey_yes), func.sum(InsightDay.survey_no))
        .where(in_period(InsightDay.day))
    ).one())  # fmt: skip

    prompt_names = ("reached", "went_on", "hung_up", "to_person", "not_understood", "voice", "voice_missed")
    prompt_rows = session.execute(
        select(InsightPrompt.node, *(func.sum(getattr(InsightPrompt, n)) for n in prompt_names))
        .where(in_period(InsightPrompt.day)).group_by(InsightPrompt.node)
    ).all()  # fmt: skip
    prompts = sorted(
        (Prompt(node, *(int(v or 0) for v in values)) for node, *values in prompt_rows),
        key=lambda p: (-p.reached, p.node),
    )

    asked_total, missed = func.sum(InsightAsked.asked), func.sum(InsightAsked.not_found + InsightAsked.not_helped)
    asked_rows = session.connection().execute(
        select(InsightAsked.language, InsightAsked.key, asked_total, func.sum(InsightAsked.not_found),
               func.sum(InsightAsked.not_helped), func.min(InsightAsked.sample), func.max(InsightAsked.day))
        .where(in_period(InsightAsked.day)).group_by(InsightAsked.language, InsightAsked.key)
        .having(missed > 0).order_by(asked_total.desc(), missed.desc(), InsightAsked.language, InsightAsked.key)
        .limit(TOP_ASKED)
    ).all()  # fmt: skip
    asked = [
        Asked(key, sample or "", int(n or 0), int(nf or 0), int(nh or 0), language, "phone", _day(last))
        for language, key, n, nf, nh, sample, last in asked_rows
    ]

    by_hour = [[0] * 24 for _ in range(7)]
    for day, hour, calls in session.execute(
        select(InsightHour.day, InsightHour.hour, InsightHour.calls).where(in_period(InsightHour.day))
    ):
        by_hour[day.weekday()][hour] += int(calls or 0)

    since, until = _local_midnight(hours, start), _local_midnight(hours, end + dt.timedelta(days=1))
    # The help centre's searches that found nothing join the callers' questions, most asked first.
    asked = sorted(
        [*asked, *_web_unanswered(session, since, until, catalog, hours)],
        key=lambda a: (-a.asked, -(a.not_found + a.not_helped), a.language, a.key, a.channel),
    )[:TOP_ASKED]
    return Figures(
        start=start,
        end=end,
        calls=sum(d.calls for d in days),
        outcomes=outcomes,
        days=days,
        prompts=tuple(prompts),
        asked=tuple(asked),
        messages=_messages(session, since, until),
        hours=tuple(tuple(row) for row in by_hour),
        open=_open_hours(hours),
        voice_steps=voice_steps,
        steps=steps,
        called_again=called_again,
        helped_called_again=helped_called_again,
        web=_web(session, since, until),
        surveyed=surveyed,
        solved=solved,
        not_solved=not_solved,
        versions=_versions(session, in_period),
        callbacks=_callbacks(session, since, until),
        experiments=_experiments(session, in_period, since, until),
    )


def _experiments(session: Session, in_period: Any, since: dt.datetime, until: dt.datetime) -> tuple[Tried, ...]:
    """The period's experiments: those running in it, and those heard in it."""
    counts = ("heard", "helped", "dropped", "surveyed", "survey_yes", "survey_no")
    rows = session.execute(
        select(InsightExperiment.experiment_id, InsightExperiment.arm,
               *(func.sum(getattr(InsightExperiment, name)) for name in counts))
        .where(in_period(InsightExperiment.day))
        .group_by(InsightExperiment.experiment_id, InsightExperiment.arm)
    )  # fmt: skip
    sums = {(int(experiment_id), arm): Arm(*(int(n or 0) for n in values)) for experiment_id, arm, *values in rows}
    ran = (Experiment.started_at < until) & (Experiment.ended_at.is_(None) | (Experiment.ended_at >= since))
    chosen = select(Experiment).where(ran | Experiment.id.in_({e for e, _arm in sums}))
    found = []
    for e in session.scalars(chosen.order_by(Experiment.started_at.desc(), Experiment.id.desc())):
        original, variant = sums.get((e.id, "original"), Arm()), sums.get((e.id, "variant"), Arm())
        compared = compare((original.helped, original.heard), (variant.helped, variant.heard))
        found.append(Tried(e.id, e.kind, e.language, e.target, e.text, e.share, as_utc(e.started_at),
                           as_utc(e.ended_at) if e.ended_at else None, original, variant, compared))  # fmt: skip
    return tuple(found)


def _versions(session: Session, in_period: Any) -> tuple[Heard, ...]:
    """The period's calls per version heard, the newest version first (calls from before versions: "")."""
    counts = ("calls", "helped", "surveyed", "survey_yes", "survey_no")
    rows = session.execute(
        select(InsightVersion.version, LineVersion.language, LineVersion.first_heard,
               *(func.sum(getattr(InsightVersion, name)) for name in counts))
        .outerjoin(LineVersion, LineVersion.id == InsightVersion.version)
        .where(in_period(InsightVersion.day))
        .group_by(InsightVersion.version, LineVersion.language, LineVersion.first_heard)
    ).all()  # fmt: skip
    heard = [Heard(version, language or "", as_utc(first) if first else None, *(int(n or 0) for n in sums))
             for version, language, first, *sums in rows]  # fmt: skip
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    return tuple(sorted(heard, key=lambda h: (h.first_heard or oldest, h.version), reverse=True))


def _iso(moment: dt.datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment is not None else None


def _tried(t: Tried) -> dict[str, Any]:
    return {"id": t.id, "kind": t.kind, "language": t.language, "target": t.target, "text": t.text,
            "share": t.share, "started_at": _iso(t.started_at), "ended_at": _iso(t.ended_at),
            "original": t.original.as_json(), "variant": t.variant.as_json(), "difference": t.comparison.difference,
            "p_value": t.comparison.p_value, "statement": t.comparison.statement}  # fmt: skip


def as_json(f: Figures) -> dict[str, Any]:
    """The figures as GET /agent/api/insights gives them (times ISO 8601 with their offset)."""
    m = f.messages
    return {
        "from": f.start.isoformat(),
        "to": f.end.isoformat(),
        "calls": f.calls,
        "outcomes": {name: f.outcomes.get(name, 0) for name in OUTCOME_NAMES.values()},
        "containment": f.containment,
        # Callers who called again within 24 hours; the helped among them are not contained.
        "called_again": f.called_again,
        "helped_called_again": f.helped_called_again,
        # Asked after self-service whether the call solved it: yes ("confirmed solved"), no, or no answer.
        "survey": {"asked": f.surveyed, "solved": f.solved, "not_solved": f.not_solved},
        # Callbacks asked for in the period: called, the first call within an hour of the time due, reached.
        "callbacks": {
            "requested": f.callbacks.requested,
            "called": f.callbacks.called,
            "on_time": f.callbacks.on_time,
            "reached": f.callbacks.reached,
        },
        # Experiments (ivr/experiments.py): each arm's calls that heard it, and whether the difference
        # in containment is more than chance (p_value null: not enough calls yet).
        "experiments": [_tried(t) for t in f.experiments],
        # Per version of the line the calls heard (flow, prompts, knowledge base: `flask versions`).
        "versions": [
            {
                "version": h.version,
                "language": h.language,
                "first_heard": _iso(h.first_heard),
                "calls": h.calls,
                "helped": h.helped,
                "survey": {"asked": h.surveyed, "solved": h.solved, "not_solved": h.not_solved},
            }
            for h in f.versions
        ],
        "days": [
            {
                "day": d.day.isoformat(),
                "calls": d.calls,
                "helped": d.helped,
                "helped_called_again": d.helped_called_again,
                "containment": d.containment,
            }
            for d in f.days
        ],
        "drop_off": [
            {
                "node": p.node,
                "reached": p.reached,
                "went_on": p.went_on,
                "hung_up": p.hung_up,
                "to_person": p.to_person,
                "not_understood": p.not_understood,
            }
            for p in f.prompts
        ],
        "unanswered": [
            {
                "words": a.key,
                "sample": a.sample,
                "asked": a.asked,
                "not_found": a.not_found,
                "not_helped": a.not_helped,
                "language": a.language,
                "channel": a.channel,
            }
            for a in f.asked
        ],
        "web": {
            "searches": f.web.searches,
            "answered": f.web.answered,
            "options": f.web.options,
            "none": f.web.none,
            "reads": f.web.reads,
            "helpful": f.web.helpful,
            "not_helpful": f.web.not_helpful,
            "reasons": f.web.reasons,
            "messages": f.web.messages,
            "answers": [
                {
                    "slug": v.slug,
                    "language": v.language,
                    "web_yes": v.web_yes,
                    "web_no": v.web_no,
                    "phone_yes": v.phone_yes,
                    "phone_no": v.phone_no,
                }
                for v in f.web.votes
            ],  # fmt: skip
        },
        "messages": {
            "received": m.received,
            "closed": m.closed,
            "median_hours": m.median_hours,
            "p90_hours": m.p90_hours,
            "oldest_open": _iso(m.oldest_open),
            "per_agent": [
                {"agent": a.agent, "closed": a.closed, "median_hours": a.median_hours, "p90_hours": a.p90_hours}
                for a in m.per_agent
            ],
        },
        "speech": {
            "voice_share": f.voice_steps / f.steps if f.steps else 0.0,
            "steps": f.steps,
            "voice_steps": f.voice_steps,
            "prompts": [
                {"node": p.node, "voice": p.voice, "voice_missed": p.voice_missed}
                for p in sorted(f.prompts, key=lambda p: (-p.voice, p.node))
                if p.voice
            ],
        },
        "hours": [list(row) for row in f.hours],
        "open": [list(row) for row in f.open],
    }
