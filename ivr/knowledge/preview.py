"""What an entry typed in the editor would change for callers, before it is saved.

The recent questions of its language (callers' on the phone, visitors' searches of the help centre)
are asked of the knowledge base as it is and as it would be with the entry, by the one decision
both channels give (ivr/knowledge/decision.py); only what changes is shown: questions it would now
answer or offer, answers it would take over from other entries, and, for an entry edited, questions
it answers now and would no longer.

Only the questions with a word of the entry (as typed, or as it is now) are asked again: an entry
without any of a question's words can be neither its answer nor among its choices, so the lists are
whole; and a large base is not asked thousands of questions twice while a person waits. (An entry
added also shifts the weights of the words it shares a little for every entry: a question without
its words whose choice between two others moves with it is not shown.)
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.knowledge.decision import Decision, Index, Rules, content_of, decide, index_for
from ivr.models import FaqEntry, FaqQuery, HelpEvent
from ivr.speech.matching import Words

# The recent questions: of the last DAYS, the latest MOST different ones of each channel.
DAYS = 30
MOST = 1000
# Decisions of the base as it is kept per index, at most: the recent questions of both channels, so
# that a worker's few indexes never hold more than a few megabytes of them.
KEPT_DECISIONS = 2 * MOST
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
    questions: int  # the different questions asked in the period
    asked_again: int  # those with a word of the entry, asked again
    own: Outcome  # what the entry's own question would get
    answers: tuple[Change, ...]  # now nothing or a choice; with the entry, this entry (answered or offered)
    takes: tuple[Change, ...]  # now another entry's answer; with the entry, something else
    loses: tuple[Change, ...]  # now this entry's answer (an edit); with the change, not
    others: tuple[Change, ...]  # other changes (a choice between other entries that moves)
    keeps: int  # answered by this entry now and still

    @property
    def changes(self) -> int:
        return len(self.answers) + len(self.takes) + len(self.loses) + len(self.others)


@dataclass
class Recent:
    """One question as callers put it (its first way), where, and every way it was written."""

    said: str
    where: set[str]
    forms: set[str]


def recent(session: Session, language: str, since: dt.datetime) -> list[Recent]:
    """The latest MOST different questions of each channel asked since `since` in `language` (the same
    words in another case or spacing are one), latest first: read newest first until there are
    enough, not grouped over the whole period."""
    phone = select(FaqQuery.asked).where(
        FaqQuery.language == language, FaqQuery.at >= since, ~FaqQuery.asked.startswith("topic: ")
    )
    web = select(HelpEvent.asked).where(
        HelpEvent.kind == "search", HelpEvent.language == language, HelpEvent.at >= since, HelpEvent.asked != ""
    )
    found: dict[str, Recent] = {}
    for channel, query, at in (("phone", phone, FaqQuery.at), ("web", web, HelpEvent.at)):
        mine: set[str] = set()
        for asked in session.scalars(query.order_by(at.desc()).execution_options(yield_per=1000)):
            key = " ".join(asked.split()).casefold()
            if key and key not in mine:
                if len(mine) == MOST:
                    break
                mine.add(key)
            if key:
                known = found.setdefault(key, Recent(asked, set(), set()))
                known.where.add(channel)
                known.forms.add(asked)
    return list(found.values())


def times_asked(session: Session, language: str, since: dt.datetime, forms: set[str]) -> Counter[str]:
    """How often each of `forms` was asked since `since` on the phone and the help centre."""
    counted: Counter[str] = Counter()
    listed = sorted(forms)
    for start in range(0, len(listed), 500):
        part = listed[start : start + 500]
        for column, at, where in (
            (FaqQuery.asked, FaqQuery.at, FaqQuery.language == language),
            (HelpEvent.asked, HelpEvent.at, (HelpEvent.language == language) & (HelpEvent.kind == "search")),
        ):
            query = select(column, func.count()).where(where, at >= since, column.in_(part)).group_by(column)
            counted.update({form: count for form, count in session.execute(query)})
    return counted


def decided(index: Index, asked: str, rules: Rules) -> Decision:
    """What `asked` gets from the base as it is: kept on its index (a version of a language's entries),
    as a supervisor previews again and again while typing and only the typed entry changes."""
    key = (asked, rules)
    found = index.decided.get(key)
    if found is None:
        if len(index.decided) >= KEPT_DECISIONS:
            index.decided.clear()
        found = index.decided[key] = decide(index, asked, rules)
    return found


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
    after = before.with_entry(entry)
    # The entry's words, as typed and as it is now: only a question with one of them can change.
    its_words = after.vocabularies[-1].union(
        *(v for e, v in zip(before.entries, before.vocabularies, strict=True) if e.slug == slug)
    )
    since = now - dt.timedelta(days=DAYS)
    asked = recent(session, language, since)
    changed: list[tuple[Recent, Outcome, Outcome]] = []
    keeps = again = 0
    for question in asked:
        said = question.said
        stems = before.stems(said, rules)
        heard = {
            *content_of(before.heard(said, rules, stems), rules),
            *content_of(after.heard(said, rules, stems), rules),
        }
        if heard.isdisjoint(its_words):
            continue
        again += 1
        was, will = Outcome.of(decided(before, said, rules)), Outcome.of(decide(after, said, rules))
        if (was.kind, was.slugs) == (will.kind, will.slugs):  # a title edited is no change of what is given
            keeps += was.answers(slug)
        else:
            changed.append((question, was, will))
    # How often, counted only for what changed; the most asked first.
    counted = times_asked(session, language, since, {form for question, _, _ in changed for form in question.forms})
    answers, takes, loses, others = [], [], [], []
    for question, was, will in sorted(changed, key=lambda c: -sum(counted[f] for f in c[0].forms)):
        where = " and ".join(sorted(question.where))
        change = Change(question.said, sum(counted[f] for f in question.forms), where, was, will)
        if was.answers(slug):
            loses.append(change)
        elif was.kind == "answer":
            (takes if slug in will.slugs else others).append(change)
        elif slug in will.slugs:
            answers.append(change)
        else:
            others.append(change)
    own = Outcome.of(decide(after, entry.question, rules))
    return Preview(DAYS, len(asked), again, own, *(tuple(c) for c in (answers, takes, loses, others)), keeps)
