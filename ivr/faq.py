"""The questions knowledge base: entries as YAML in and out, and ranked search over them.

Search is BM25 (rank-bm25) over the same normalised words menu matching uses (lower case, filler
dropped, light stemming), so "uh, how long does shipping take" and "delivery times" meet. An entry's
keywords count twice, its answer once. One clear best entry is answered; close runners-up make a
short menu to narrow the question down; nothing above the floor is "not found".
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rank_bm25 import BM25Okapi
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.config import PROJECT_ROOT
from ivr.errors import IVRError
from ivr.models import FaqEntry, FaqQuery
from ivr.speech.matching import normalise

DEMO_FILE = PROJECT_ROOT / "db" / "seed" / "faq.yaml"
FIELDS = ("slug", "category", "title", "question", "answer")
# A score below this (BM25, these weights) is "nothing close"; runners-up within CLOSE of the best
# are offered as choices, at most MAX_CHOICES.
MIN_SCORE = 1.0
CLOSE = 0.75
MAX_CHOICES = 3


class FaqFileError(IVRError):
    """A knowledge-base file that cannot be imported; nothing of it was imported."""


# ---- import and export --------------------------------------------------------------------


def read_file(path: Path) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise FaqFileError(f"{path}: cannot read it: {error}") from None
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise FaqFileError(f"{path}: expected 'entries:' with a list of entries")
    seen: set[str] = set()
    for number, entry in enumerate(entries, 1):
        missing = [f for f in FIELDS if not isinstance(entry, dict) or not str(entry.get(f, "")).strip()]
        if missing:
            raise FaqFileError(f"{path} entry {number}: missing {', '.join(missing)}")
        if entry["slug"] in seen:
            raise FaqFileError(f"{path} entry {number}: slug {entry['slug']!r} appears twice")
        seen.add(entry["slug"])
        keywords = entry.get("keywords", [])
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise FaqFileError(f"{path} entry {number}: keywords must be a list of words or phrases")
    return entries


def import_entries(session: Session, entries: list[dict[str, Any]]) -> tuple[int, int]:
    """Add new entries and update existing ones by slug; (added, updated). Nothing is deleted."""
    added = updated = 0
    for item in entries:
        entry = session.scalar(select(FaqEntry).where(FaqEntry.slug == item["slug"]))
        if entry is None:
            entry = FaqEntry(slug=item["slug"])
            session.add(entry)
            added += 1
        else:
            updated += 1
        for name in FIELDS[1:]:
            setattr(entry, name, str(item[name]).strip())
        entry.keywords = [str(k).strip() for k in item.get("keywords", []) if str(k).strip()]
    return added, updated


def export_entries(session: Session) -> str:
    entries = session.scalars(select(FaqEntry).order_by(FaqEntry.category, FaqEntry.slug)).all()
    rows = [{**{name: getattr(e, name) for name in FIELDS}, "keywords": list(e.keywords)} for e in entries]
    return yaml.safe_dump({"entries": rows}, sort_keys=False, allow_unicode=True, width=100)


# ---- search -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    slug: str
    title: str
    answer: str
    score: float


def _words(entry: FaqEntry) -> list[str]:
    keywords = " ".join(entry.keywords)
    return normalise(f"{entry.question} {entry.title} {entry.category} {keywords} {keywords} {entry.answer}")


def search(entries: Sequence[FaqEntry], asked: str) -> list[Found]:
    """Entries ranked for what the caller asked, best first; only those above the floor."""
    query = normalise(asked)
    if not query or not entries:
        return []
    scores = BM25Okapi([_words(e) for e in entries]).get_scores(query)
    ranked = sorted(zip(entries, scores, strict=True), key=lambda pair: -pair[1])
    return [Found(e.slug, e.title, e.answer, float(s)) for e, s in ranked if s >= MIN_SCORE]


def choices(found: list[Found]) -> list[Found]:
    """One clear answer, or the close ones to choose between (best first); [] for nothing."""
    if not found:
        return []
    best = found[0].score
    return [f for f in found if f.score >= CLOSE * best][:MAX_CHOICES]


def load_demo(session: Session) -> tuple[int, int]:
    return import_entries(session, read_file(DEMO_FILE))


# ---- what callers asked ---------------------------------------------------------------------


def asked_report(session: Session, since: dt.datetime) -> str:
    """For the keepers of the answers: how each entry did, and what callers asked and did not get."""
    queries = session.scalars(select(FaqQuery).where(FaqQuery.at >= since).order_by(FaqQuery.at)).all()
    lines = [f"{len(queries)} questions since {since:%Y-%m-%d %H:%M} UTC"]
    answered = Counter(q.answered_slug for q in queries if q.answered_slug)
    helped = Counter(q.answered_slug for q in queries if q.helpful is True)
    unhelpful = Counter(q.answered_slug for q in queries if q.helpful is False)
    if answered:
        lines.append(f"\n{'entry':28} {'answered':>8} {'helped':>7} {'did not help':>13}")
        for slug, count in answered.most_common():
            lines.append(f"{slug:28} {count:>8} {helped[slug]:>7} {unhelpful[slug]:>13}")
    misses = [q for q in queries if q.answered_slug is None]
    lines.append(f"\nFound nothing ({len(misses)}):")
    lines += [f"  {q.at:%Y-%m-%d %H:%M}  {q.asked}" for q in misses]
    bad = [q for q in queries if q.helpful is False]
    lines.append(f"\nDid not help ({len(bad)}):")
    lines += [f"  {q.at:%Y-%m-%d %H:%M}  {q.asked}  ->  {q.answered_slug}" for q in bad]
    return "\n".join(lines) + "\n"
