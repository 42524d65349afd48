"""What an entry typed in the editor would change for callers, before it is saved.

The recent questions of its language (callers' on the phone, visitors' searches of the help centre)
are asked of the knowledge base as it is and as it would be with the entry, by the one decision
both channels give (ivr/knowledge/decision.py); only what changes is shown: questions it would now
answer or offer, answers it would take over from other entries, and, for an entry edited, questions
it answers now and would no longer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.knowledge.decision import Decision, Index, Rules, decide, index_for
from ivr.models import FaqEntry, FaqQuery, HelpEvent
from ivr.speech.matching import Words

# The recent questions: of the last DAYS, at most MOST different ones (the latest), in each channel.
DAYS = 30
MOST = 1000
# Rows shown in each list of the preview (the counts say how many there are).
SHOWN = 25


@dataclass(frozen=True)
class Outcome:
    """What a question gets: "answer" (one entry), "refine" (asked to confirm one, or a choice), "none"."""

    kind: str
    slugs: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()

    @classmethod
    def of(cls, decision: Decision) -> Outcome:
        return cls(decision.kind, tuple(f.slug for f in decision.found), tuple(f.title for f in decision.found))

    def answers(self, slug: str) -> bool:
        return self.kind == "answer" and self.slugs[0] == slug


@dataclass(frozen=True)
class Change:
    question: str
    asked: int  # how often, in the period
    where: str  # "phone", "web", or "phone and web"
    before: Outcome
    after: Outcome


@dataclass(frozen=True)
class Preview:
    days: int
    questions: int  # the different questions asked again
    own: Outcome  # what the entry's own question would get
    answers: tuple[Change, ...]  # now nothing or a choice; with the entry, this entry (answered or offered)
    takes: tuple[Change, ...]  # now another entry's answer; with the entry, something else
    loses: tuple[Change, ...]  # now this entry's answer (an edit); with the change, not
    others: tuple[Change, ...]  # other changes (a choice between other entries that moves)
    keeps: int  # answered by this entry now and still

    @property
    def changes(self) -> int:
        return len(self.answers) + len(self.takes) + len(self.loses) + len(self.others)


def recent(session: Session, language: str, since: dt.datetime) -> list[tuple[str, int, str]]:
    """The different questions asked since `since` in `language`: (words, times, where), latest first."""
    phone = (
        select(FaqQuery.asked, func.count(), func.max(FaqQuery.at))
        .where(FaqQuery.language == language, FaqQuery.at >= since, ~FaqQuery.asked.startswith("topic: "))
        .group_by(FaqQuery.asked)
        .order_by(func.max(FaqQuery.at).desc())
        .limit(MOST)
    )
    web = (
        select(HelpEvent.asked, func.count(), func.max(HelpEvent.at))
        .where(HelpEvent.kind == "search", HelpEvent.language == language, HelpEvent.at >= since, HelpEvent.asked != "")
        .group_by(HelpEvent.asked)
        .order_by(func.max(HelpEvent.at).desc())
        .limit(MOST)
    )
    found: dict[str, tuple[str, int, set[str], dt.datetime]] = {}
    for channel, query in (("phone", phone), ("web", web)):
        for asked, times, last in session.execute(query):
            key = " ".join(asked.split()).casefold()
            if not key:
                continue
            said, count, where, latest = found.get(key, (asked, 0, set(), last))
            found[key] = (said, count + times, where | {channel}, max(latest, last))
    ordered = sorted(found.values(), key=lambda f: f[3], reverse=True)
    return [(said, count, " and ".join(sorted(where))) for said, count, where, _ in ordered]


def with_entry(index: Index, entry: FaqEntry) -> Index:
    """The language's index with `entry` added, or in place of the entry of its slug."""
    return Index([e for e in index.entries if e.slug != entry.slug] + [entry], index.words)


def preview(
    session: Session, language: str, typed: Mapping[str, object], words: Words, rules: Rules, now: dt.datetime
) -> Preview:
    """What `typed` (an entry's fields, its slug among them) would change for the recent questions."""
    slug = str(typed.get("slug") or "")
    entry = FaqEntry(
        language=language, slug=slug, category=str(typed.get("category") or ""), title=str(typed.get("title") or ""),
        question=str(typed.get("question") or ""), answer=str(typed.get("answer") or ""),
        keywords=list(typed.get("keywords") or []),  # type: ignore[call-overload]
    )  # fmt: skip
    before = index_for(session, language, words)
    after = with_entry(before, entry)
    answers, takes, loses, others = [], [], [], []
    keeps = 0
    asked = recent(session, language, now - dt.timedelta(days=DAYS))
    for said, times, where in asked:
        was, will = Outcome.of(decide(before, said, rules)), Outcome.of(decide(after, said, rules))
        if (was.kind, was.slugs) == (will.kind, will.slugs):  # a title edited is no change of what is given
            keeps += was.answers(slug)
            continue
        change = Change(said, times, where, was, will)
        if was.answers(slug):
            loses.append(change)
        elif was.kind == "answer":
            (takes if slug in will.slugs else others).append(change)
        elif slug in will.slugs:
            answers.append(change)
        else:
            others.append(change)
    own = Outcome.of(decide(after, entry.question, rules))
    return Preview(DAYS, len(asked), own, *(tuple(c) for c in (answers, takes, loses, others)), keeps)
