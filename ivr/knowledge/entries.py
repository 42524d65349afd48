"""The questions knowledge base: entries as YAML in and out (searched by ivr/knowledge/decision.py).

Every entry is in one language (`language:`, an entry's own or its file's, else en-US); the same
slug in each language is that language's entry for the same question, and a caller is only ever
searched the entries of their call's language.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from babel import Locale, UnknownLocaleError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.config import PROJECT_ROOT
from ivr.errors import IVRError
from ivr.knowledge.versions import record
from ivr.languages import CODE
from ivr.models import FaqEntry, FaqQuery

SEED = PROJECT_ROOT / "db" / "seed"
# The demo knowledge base, a file per language: the same slugs and categories in each.
DEMO_FILE = SEED / "faq.yaml"  # American English
DEMO_FILES = (DEMO_FILE, SEED / "faq.fi-FI.yaml", SEED / "faq.lv-LV.yaml")
DEFAULT_LANGUAGE = "en-US"
FIELDS = ("slug", "category", "title", "question", "answer")


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


def import_entries(session: Session, entries: list[dict[str, Any]], by: str = "faq import") -> tuple[int, int]:
    """Add new entries and update existing ones by language and slug; (added, updated). Nothing is
    deleted. Each change is kept as a version by `by` (ivr/knowledge/versions.py)."""
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
        record(session, entry, by, "created" if entry.id is None else "edited")
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


# ---- the demo set ---------------------------------------------------------------------------


def load_demo(session: Session) -> tuple[int, int]:
    """The demo entries of every language (all files read before any is imported)."""
    return import_entries(session, [entry for path in DEMO_FILES for entry in read_file(path)], by="demo data")


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
