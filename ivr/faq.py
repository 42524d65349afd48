"""The questions knowledge base: entries as YAML in and out, and ranked search over them.

Every entry is in one language (`language:`, an entry's own or its file's, else en-US); the same
slug in each language is that language's entry for the same question, and a caller is only ever
searched the entries of their call's language.

Search is BM25 (rank-bm25) over the same normalised words menu matching uses, in the entries'
language (lower case, that language's filler dropped, its stemmer), so "uh, how long does shipping
take" and "delivery times" meet, and so do "öö, montako päivää pikatoimituksessa menee" and the
Finnish entry's "pikatoimitus". An entry's
keywords count twice, its answer once. One clear best entry is answered; close runners-up make a
short menu to narrow the question down; nothing above the floor is "not found".
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from os.path import commonprefix
from pathlib import Path
from typing import Any

import yaml
from babel import Locale, UnknownLocaleError
from rank_bm25 import BM25Okapi
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.config import PROJECT_ROOT
from ivr.errors import IVRError
from ivr.languages import CODE
from ivr.models import FaqEntry, FaqQuery
from ivr.speech.matching import ENGLISH, Words, normalise

SEED = PROJECT_ROOT / "db" / "seed"
# The demo knowledge base, a file per language: the same slugs and categories in each.
DEMO_FILE = SEED / "faq.yaml"  # American English
DEMO_FILES = (DEMO_FILE, SEED / "faq.fi-FI.yaml", SEED / "faq.lv-LV.yaml")
DEFAULT_LANGUAGE = "en-US"
FIELDS = ("slug", "category", "title", "question", "answer")
# A score below this (BM25, these weights) is "nothing close"; runners-up within CLOSE of the best
# are offered as choices, at most MAX_CHOICES.
MIN_SCORE = 1.0
CLOSE = 0.75
MAX_CHOICES = 3
# Stemmers of inflected languages leave some endings on ("pikatoimitu" from "pikatoimitusta",
# "pikatoimitus"; "jäsenyyd" and "jäsenyys"): a word no entry has is taken as the entry word it
# shares all but the last ENDING letters of the shorter with, and at least STEM letters.
STEM, ENDING = 5, 2


class FaqFileError(IVRError):
    """A knowledge-base file that cannot be imported; nothing of it was imported."""


# ---- import and export --------------------------------------------------------------------


def language_error(code: object) -> str | None:
    """Why `code` is not a language an entry can be in (None: it is one), e.g. "fi-FI"."""
    if not isinstance(code, str) or not CODE.fullmatch(code):
        return f"language {code!r} is not a language code like fi-FI, lv-LV or en-US"
    try:
        Locale.parse(code, sep="-")
    except (UnknownLocaleError, ValueError):
        return f"language {code!r} is not a language Babel (CLDR) knows"
    return None


def read_file(path: Path) -> list[dict[str, Any]]:
    """The entries of a knowledge-base file, each with its `language` (its own, else the file's, else
    en-US); FaqFileError, naming the file and the entry, for anything that cannot be imported."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise FaqFileError(f"{path}: cannot read it: {error}") from None
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise FaqFileError(f"{path}: expected 'entries:' with a list of entries")
    language = data.get("language", DEFAULT_LANGUAGE)
    if (wrong := language_error(language)) is not None:
        raise FaqFileError(f"{path}: {wrong}")
    seen: set[tuple[str, str]] = set()
    for number, entry in enumerate(entries, 1):
        missing = [f for f in FIELDS if not isinstance(entry, dict) or not str(entry.get(f, "")).strip()]
        if missing:
            raise FaqFileError(f"{path} entry {number}: missing {', '.join(missing)}")
        entry.setdefault("language", language)
        if (wrong := language_error(entry["language"])) is not None:
            raise FaqFileError(f"{path} entry {number} ({entry['slug']}): {wrong}")
        if (entry["language"], entry["slug"]) in seen:
            raise FaqFileError(f"{path} entry {number}: slug {entry['slug']!r} appears twice in {entry['language']}")
        seen.add((entry["language"], entry["slug"]))
        keywords = entry.get("keywords", [])
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise FaqFileError(f"{path} entry {number}: keywords must be a list of words or phrases")
    return entries


def import_entries(session: Session, entries: list[dict[str, Any]]) -> tuple[int, int]:
    """Add new entries and update existing ones by language and slug; (added, updated). Nothing is
    deleted."""
    added = updated = 0
    for item in entries:
        language = str(item.get("language") or DEFAULT_LANGUAGE)
        same = (FaqEntry.language == language) & (FaqEntry.slug == item["slug"])
        entry = session.scalar(select(FaqEntry).where(same))
        if entry is None:
            entry = FaqEntry(language=language, slug=item["slug"])
            session.add(entry)
            added += 1
        else:
            updated += 1
        for name in FIELDS[1:]:
            setattr(entry, name, str(item[name]).strip())
        entry.keywords = [str(k).strip() for k in item.get("keywords", []) if str(k).strip()]
    return added, updated


def export_entries(session: Session, language: str | None = None) -> str:
    """Every entry (or those of one language), each with its language, in the form `read_file` reads."""
    query = select(FaqEntry).order_by(FaqEntry.language, FaqEntry.category, FaqEntry.slug)
    if language is not None:
        query = query.where(FaqEntry.language == language)
    rows = [
        {"slug": e.slug, "language": e.language, **{name: getattr(e, name) for name in FIELDS[1:]},
         "keywords": list(e.keywords)}
        for e in session.scalars(query)
    ]  # fmt: skip
    return yaml.safe_dump({"entries": rows}, sort_keys=False, allow_unicode=True, width=100)


# ---- search -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    slug: str
    title: str
    answer: str
    score: float


def _words(entry: FaqEntry, words: Words) -> list[str]:
    keywords = " ".join(entry.keywords)
    return normalise(f"{entry.question} {entry.title} {entry.category} {keywords} {keywords} {entry.answer}", words)


def search(entries: Sequence[FaqEntry], asked: str, words: Words = ENGLISH) -> list[Found]:
    """Entries ranked for what the caller asked, best first; only those above the floor. `entries` are
    one language's, and `words` how that language is heard (its catalog's Words)."""
    query = normalise(asked, words)
    if not query or not entries:
        return []
    bm25 = BM25Okapi([_words(e, words) for e in entries])
    scores = bm25.get_scores([_known(word, bm25.idf) for word in query])
    ranked = sorted(zip(entries, scores, strict=True), key=lambda pair: -pair[1])
    return [Found(e.slug, e.title, e.answer, float(s)) for e, s in ranked if s >= MIN_SCORE]


def _known(word: str, vocabulary: Collection[str]) -> str:
    """`word`, or the entries' word it is another ending of (the longest shared start wins)."""
    if word in vocabulary or len(word) < STEM:
        return word
    best, shared = word, 0
    for known in sorted(vocabulary):
        common = len(commonprefix((word, known)))
        if common >= max(STEM, min(len(word), len(known)) - ENDING) and common > shared:
            best, shared = known, common
    return best


def choices(found: list[Found]) -> list[Found]:
    """One clear answer, or the close ones to choose between (best first); [] for nothing."""
    if not found:
        return []
    best = found[0].score
    return [f for f in found if f.score >= CLOSE * best][:MAX_CHOICES]


def load_demo(session: Session) -> tuple[int, int]:
    """The demo entries of every language (all files read before any is imported)."""
    return import_entries(session, [entry for path in DEMO_FILES for entry in read_file(path)])


# ---- what callers asked ---------------------------------------------------------------------


def asked_report(session: Session, since: dt.datetime) -> str:
    """For the keepers of the answers: how each entry did, and what callers asked and did not get."""
    queries = session.scalars(select(FaqQuery).where(FaqQuery.at >= since).order_by(FaqQuery.at)).all()
    lines = [f"{len(queries)} questions since {since:%Y-%m-%d %H:%M} UTC"]
    # An entry is a slug in a language: each language's entry is kept, and judged, on its own.
    answered = Counter((q.language, q.answered_slug) for q in queries if q.answered_slug)
    helped = Counter((q.language, q.answered_slug) for q in queries if q.helpful is True)
    unhelpful = Counter((q.language, q.answered_slug) for q in queries if q.helpful is False)
    if answered:
        lines.append(f"\n{'language':9} {'entry':28} {'answered':>8} {'helped':>7} {'did not help':>13}")
        for key, count in answered.most_common():
            lines.append(f"{key[0]:9} {key[1]:28} {count:>8} {helped[key]:>7} {unhelpful[key]:>13}")
    misses = [q for q in queries if q.answered_slug is None]
    lines.append(f"\nFound nothing ({len(misses)}):")
    lines += [f"  {q.at:%Y-%m-%d %H:%M}  {q.language:6} {q.asked}" for q in misses]
    bad = [q for q in queries if q.helpful is False]
    lines.append(f"\nDid not help ({len(bad)}):")
    lines += [f"  {q.at:%Y-%m-%d %H:%M}  {q.language:6} {q.asked}  ->  {q.answered_slug}" for q in bad]
    return "\n".join(lines) + "\n"
