"""The insights' aggregates: each ended call rolled into day rows once, by the worker (never by a call step).

A call is ended when Twilio's status callback set `ended_at`, or when no step came for an hour (a call
Twilio never reported). Its event log (one event per answered step: `node` where the caller answered,
`input_kind`, what it `matched`, `next_node` where the call then waited or ended, `path` of nodes
passed) is read once, with its knowledge-base questions, and added to the day of its start in the
line's time zone. Claiming a call is one `UPDATE ... WHERE summarised = false`, in the same
transaction as the additions: two workers never count a call twice, and a failed batch counts nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import Table, and_, false, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ivr.experiments import ARMS
from ivr.flows.nodes import WAITING
from ivr.hours import OpeningHours
from ivr.models import (
    Call,
    FaqQuery,
    InsightAsked,
    InsightDay,
    InsightExperiment,
    InsightHour,
    InsightPrompt,
    InsightVersion,
    as_utc,
)
from ivr.speech.matching import ENGLISH, normalise

# A call with no step for this long is over, whether or not Twilio said so.
QUIET = dt.timedelta(hours=1)
# Where the caller says whether an answer helped.
HELPFUL = "faq_helpful"
# A caller who calls again within this did not help themselves the first time.
AGAIN = dt.timedelta(hours=24)
BATCH = 500
OUTCOMES = ("helped", "transferred", "message_left", "gave_up", "hung_up")
ANSWERS = ("dtmf", "speech")
SURVEY = ("surveyed", "survey_yes", "survey_no")
EXPERIMENT_COUNTS = ("heard", "helped", "dropped", *SURVEY)
# The third miss at a prompt is a miss too (the engine then sends the call on).
MISSES = ("no_match", "too_many_failures")
KEY_WORDS = 8


@dataclass
class Rows:
    """What a batch of calls adds, per row of each table."""

    days: dict[tuple[dt.date, str], Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    hours: Counter[tuple[dt.date, int]] = field(default_factory=Counter)
    prompts: dict[tuple[dt.date, str], Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    asked: dict[tuple[dt.date, str, str], Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    samples: dict[tuple[dt.date, str, str], str] = field(default_factory=dict)
    versions: dict[tuple[dt.date, str], Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    experiments: dict[tuple[dt.date, int, str], Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


@cache
def _flow_facts() -> tuple[frozenset[str], str]:
    """The prompts (nodes that wait for the caller) and where asking for a person leads."""
    from ivr.flows import build_flow

    flow = build_flow()
    waiting = frozenset(node_id for node_id, node in flow.nodes.items() if isinstance(node, WAITING))
    person = next((c.goto for c in flow.commands if c.name == "agent" and c.goto), "agent_hours")
    return waiting, person


@cache
def _loaded_catalog() -> Any:
    from ivr.prompts import Catalog

    return Catalog.load()


def line_catalog() -> Any:
    """The app's prompt catalog (how each language's callers are heard), or the one on disk."""
    from flask import current_app, has_app_context

    if has_app_context() and current_app.extensions.get("ivr.catalog") is not None:
        return current_app.extensions["ivr.catalog"]
    return _loaded_catalog()


def _words_for(catalog: Any, language: str) -> Any:
    try:
        return catalog.words(language)
    except Exception:  # a language no catalog has any more: English words still group the question
        return ENGLISH


def question_key(text: str, words: Any = ENGLISH) -> str:
    """A question's group: its normalised words, deduplicated, sorted, the first 8 ("where's my refund"
    and "refund where is it" share one)."""
    key = " ".join(sorted(set(normalise(text, words)))[:KEY_WORDS])
    return (key or " ".join(text.lower().split()))[:160]


def add_call(rows: Rows, call: Call, questions: list[FaqQuery], hours: OpeningHours, catalog: Any = None) -> None:
    """One call's counts, added to `rows`."""
    waiting, person = _flow_facts()
    local = hours.local(as_utc(call.started_at))
    day, language = local.date(), (call.language or "")[:16]
    outcome = call.outcome if call.outcome in OUTCOMES else "hung_up"
    totals = rows.days[(day, language)]
    totals["calls"] += 1
    totals[outcome] += 1
    # The question after self-service (ivr/flows/survey.py), asked and answered as the call's state says;
    # the same per version of the line the call heard (ivr/versions.py).
    collected = call.collected or {}
    asked, answer = bool(collected.get("surveyed")), collected.get("survey")
    heard = rows.versions[(day, call.version or "")]
    heard["calls"] += 1
    heard["helped"] += outcome == "helped"
    for counts in (totals, heard):
        counts["surveyed"] += asked
        counts["survey_yes"] += answer == "yes"
        counts["survey_no"] += answer == "no"
    rows.hours[(day, local.hour)] += 1

    reached: set[str] = set()
    went_on: set[str] = set()
    to_person: set[str] = set()
    steps: Counter[tuple[str, str]] = Counter()  # (node, what) -> steps
    events = [event for event in call.events or [] if isinstance(event, dict)]
    for event in events:
        node, after = event.get("node") or "", event.get("next_node") or ""
        kind, matched = event.get("input_kind"), event.get("matched") or ""
        if after in waiting:
            reached.add(after)
        if node not in waiting or kind not in (*ANSWERS, "none"):
            continue
        reached.add(node)
        missed = kind in ANSWERS and matched in MISSES
        if kind in ANSWERS:
            totals["steps"] += 1
        if kind == "speech":
            totals["voice_steps"] += 1
            steps[(node, "voice")] += 1
            if missed:
                totals["voice_missed"] += 1
                steps[(node, "voice_missed")] += 1
        if missed:
            steps[(node, "not_understood")] += 1
        if matched == "agent" or (person in (event.get("path") or ()) and matched != "too_many_failures"):
            to_person.add(node)
        elif after != node and matched != "too_many_failures":
            went_on.add(node)
    last = (events[-1].get("next_node") or "") if events else ""
    for node in reached:
        counts = rows.prompts[(day, node)]
        counts["reached"] += 1
        counts["went_on"] += node in went_on
        counts["to_person"] += node in to_person
        counts["hung_up"] += node == last
    for (node, what), n in steps.items():
        rows.prompts[(day, node)][what] += n
    _add_experiments(rows, day, collected, outcome, last)

    for query in questions:
        group = (day, (query.language or language)[:16], question_key(query.asked, _words_for(catalog, query.language)))
        counts = rows.asked[group]
        counts["asked"] += 1
        counts["not_found"] += query.answered_slug is None
        counts["not_helped"] += query.helpful is False or (
            query.answered_slug is not None and query.helpful is None and _left_unhelped(events, query.step)
        )
        rows.samples.setdefault(group, query.asked[:500])


def _add_experiments(rows: Rows, day: dt.date, collected: dict[str, Any], outcome: str, last: str) -> None:
    """The experiments whose prompt or answer the call heard (ivr/experiments.py), in its arm of each:
    helped, hung up while at it, and what it said after self-service."""
    arms = collected.get("experiments") or {}
    for experiment_id, at in (collected.get("experiments_heard") or {}).items():
        chosen = arms.get(experiment_id)
        if chosen not in ARMS or not str(experiment_id).isdigit():
            continue
        counts = rows.experiments[(day, int(experiment_id), chosen)]
        counts["heard"] += 1
        counts["helped"] += outcome == "helped"
        counts["dropped"] += at == last
        counts["surveyed"] += bool(collected.get("surveyed"))
        counts["survey_yes"] += collected.get("survey") == "yes"
        counts["survey_no"] += collected.get("survey") == "no"


def _left_unhelped(events: list[dict[str, Any]], step: int) -> bool:
    """Whether, asked "Did that answer your question?" after the answer of `step`, the caller asked
    for a person or hung up there: the answer did not help, though nobody said no."""
    after = [e for e in events if isinstance(e.get("step"), int) and e["step"] > step]
    if not after:
        return bool(events) and (events[-1].get("next_node") or "") == HELPFUL
    first = after[0]
    return first.get("node") == HELPFUL and (first.get("matched") == "agent" or first.get("input_kind") == "hangup")


def add_called_again(session: Session, rows: Rows, calls: list[Call], hours: OpeningHours) -> None:
    """Each call's previous call from the same number, if it began within AGAIN before: that call was
    followed by another, and counts on its own day as called again (once: only its next call finds it)."""
    starts = {c.call_sid: as_utc(c.started_at) for c in calls if _known_number(c.from_number)}
    numbers = {c.from_number for c in calls if c.call_sid in starts}
    if not numbers:
        return
    earliest = min(starts.values()) - AGAIN
    earlier: dict[str, list[tuple[dt.datetime, str, str, str | None]]] = defaultdict(list)
    for sid, number, started, language, outcome in session.execute(
        select(Call.call_sid, Call.from_number, Call.started_at, Call.language, Call.outcome).where(
            Call.from_number.in_(numbers), Call.started_at >= earliest
        )
    ):
        earlier[number].append((as_utc(started), sid, language or "", outcome))
    for call in calls:
        start = starts.get(call.call_sid)
        if start is None:
            continue
        before = [e for e in earlier[call.from_number] if start - AGAIN <= e[0] < start and e[1] != call.call_sid]
        if not before:
            continue
        started, _sid, language, outcome = max(before)
        totals = rows.days[(hours.local(started).date(), language[:16])]
        totals["called_again"] += 1
        totals["helped_called_again"] += outcome == "helped"


def _known_number(number: str | None) -> bool:
    """A caller ID that says who called: not empty, hidden or Twilio's words for an unknown number."""
    return bool(number) and number.lstrip("+").isdigit()


def _upsert(
    session: Session, table: Table, keys: tuple[str, ...], rows: list[dict[str, Any]], add: tuple[str, ...]
) -> None:
    """Insert the rows, or add their counts to the rows already there: one statement, SQLite or PostgreSQL."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: table.c[name] + statement.excluded[name] for name in add}
    )
    # Every row of one statement has the same columns (missing counts are 0), so it runs as executemany.
    session.execute(statement, rows)


def _write(session: Session, rows: Rows) -> None:
    day_counts = ("calls", *OUTCOMES, "steps", "voice_steps", "voice_missed", "called_again", "helped_called_again",
                  *SURVEY)  # fmt: skip
    prompt_counts = ("reached", "went_on", "hung_up", "to_person", "not_understood", "voice", "voice_missed")
    asked_counts = ("asked", "not_found", "not_helped")
    days = [
        {"day": d, "language": lang, **{c: counts[c] for c in day_counts}} for (d, lang), counts in rows.days.items()
    ]
    _upsert(session, InsightDay.__table__, ("day", "language"), days, day_counts)  # type: ignore[arg-type]
    hours = [{"day": d, "hour": h, "calls": n} for (d, h), n in rows.hours.items()]
    _upsert(session, InsightHour.__table__, ("day", "hour"), hours, ("calls",))  # type: ignore[arg-type]
    prompts = [{"day": d, "node": node, **{c: counts[c] for c in prompt_counts}}
               for (d, node), counts in rows.prompts.items()]  # fmt: skip
    _upsert(session, InsightPrompt.__table__, ("day", "node"), prompts, prompt_counts)  # type: ignore[arg-type]
    asked = [{"day": d, "language": lang, "key": key, "sample": rows.samples[(d, lang, key)],
              **{c: counts[c] for c in asked_counts}} for (d, lang, key), counts in rows.asked.items()]  # fmt: skip
    _upsert(session, InsightAsked.__table__, ("day", "language", "key"), asked, asked_counts)  # type: ignore[arg-type]
    version_counts = ("calls", "helped", *SURVEY)
    heard = [{"day": d, "version": version, **{c: counts[c] for c in version_counts}}
             for (d, version), counts in rows.versions.items()]  # fmt: skip
    _upsert(session, InsightVersion.__table__, ("day", "version"), heard, version_counts)  # type: ignore[arg-type]
    tried = [{"day": d, "experiment_id": e, "arm": a, **{c: counts[c] for c in EXPERIMENT_COUNTS}}
             for (d, e, a), counts in rows.experiments.items()]  # fmt: skip
    _upsert(session, InsightExperiment.__table__, ("day", "experiment_id", "arm"), tried, EXPERIMENT_COUNTS)  # type: ignore[arg-type]


def roll_up(session: Session, settings: dict[str, Any], now: dt.datetime, limit: int = BATCH,
            catalog: Any = None) -> int:  # fmt: skip
    """Roll up to `limit` ended calls not yet summarised into the day rows; how many. The caller's
    transaction commits the claim and the counts together."""
    over = or_(Call.ended_at.is_not(None), Call.updated_at < now - QUIET)
    # Oldest first, by start (ix_calls_summarised_started): no index holds `updated_at`, which every
    # call step writes; calls still going are passed over in that index, and they are few.
    candidates = list(
        session.scalars(
            select(Call.call_sid).where(and_(Call.summarised == false(), over)).order_by(Call.started_at).limit(limit)
        )
    )
    if not candidates:
        return 0
    # The claim: a call another worker summarised meanwhile is not returned (on PostgreSQL this waits
    # for that worker's transaction, then sees summarised = true). A SQLite without RETURNING (before
    # 3.35) needs none: its write transaction (BEGIN IMMEDIATE) was held before the calls were chosen.
    claim = (
        update(Call)
        .where(Call.call_sid.in_(candidates), Call.summarised == false())
        .values(summarised=True)
        .execution_options(synchronize_session=False)
    )
    if session.get_bind().dialect.update_returning:
        claimed = list(session.scalars(claim.returning(Call.call_sid)))
    else:
        session.execute(claim)
        claimed = candidates
    if not claimed:
        return 0
    calls = session.execute(
        select(
            Call.call_sid,
            Call.started_at,
            Call.language,
            Call.outcome,
            Call.events,
            Call.from_number,
            Call.collected,
            Call.version,
        )
        .where(Call.call_sid.in_(claimed))
        # In the order they began: each group's sample is the first question asked in it.
        .order_by(Call.started_at, Call.call_sid)
    ).all()
    questions: dict[str, list[FaqQuery]] = defaultdict(list)
    for query in session.scalars(select(FaqQuery).where(FaqQuery.call_sid.in_(claimed)).order_by(FaqQuery.id)):
        questions[query.call_sid].append(query)
    hours = OpeningHours.from_settings(settings)
    catalog = catalog if catalog is not None else line_catalog()
    rows = Rows()
    for call in calls:
        add_call(rows, call, questions.get(call.call_sid, []), hours, catalog)  # type: ignore[arg-type]
    add_called_again(session, rows, calls, hours)  # type: ignore[arg-type]
    _write(session, rows)
    return len(claimed)
