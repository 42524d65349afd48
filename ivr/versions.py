"""Which version of the line a call heard: its flow, its language's prompts and knowledge base.

A version is a short hash of three parts: the flow modules' source (ivr/flows/*.py, as this process
loaded them), the prompt catalog of the call's language (its file's bytes, as loaded) and that
language's knowledge base (how many entries, the newest, the latest revision: any edit changes it).
A call records its version when it begins, and again if the caller changes language. The versions
table keeps each version's parts and when it was first heard, so that `flask versions` and the
insights can show figures per version, and a change can be judged by the calls that heard it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ivr.models import LineVersion

FLOWS = Path(__file__).resolve().parent / "flows"
# The versions this process has written to each database's table already (the table is the truth;
# this only spares a write transaction per call).
_recorded: set[tuple[str, str]] = set()


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()[:12]


@cache
def flow_digest() -> str:
    """The flow modules' source as this process loaded it: one edit of any branch changes it."""
    return _digest(
        *(f"{path.name}:{hashlib.sha256(path.read_bytes()).hexdigest()}" for path in sorted(FLOWS.glob("*.py")))
    )


# What changes whenever a language's knowledge base does: how many entries, the newest, the latest revision.
# Plain SQL, read the same way (the driver's own values) by a call's step and by anything else.
KNOWLEDGE = "SELECT count(id), max(id), max(revised_at) FROM faq_entries WHERE language = :language"


@dataclass(frozen=True)
class Version:
    id: str
    language: str
    flow: str
    prompts: str
    knowledge: str


def of(catalog: Any, language: str, knowledge: tuple[Any, ...]) -> Version:
    """The version a call in `language` hears, given its knowledge base's row of KNOWLEDGE."""
    flow, prompts = flow_digest(), catalog.digest(language) if catalog is not None else ""
    marker = _digest(*(str(value) for value in knowledge))
    return Version(_digest(flow, language, prompts, marker), language, flow, prompts, marker)


def current(session: Session, catalog: Any, language: str) -> Version:
    """The version a call in `language` hears now."""
    return of(catalog, language, tuple(session.execute(text(KNOWLEDGE), {"language": language}).one()))


def record(database: Any, version: Version, now: dt.datetime) -> None:
    """Keep the version's parts and when it was first heard in `database` (the app's ivr.db.Database,
    not imported here: ivr.calls imports this module): once (hosts may race to write it), and not again
    by this process."""
    key = (database.url, version.id)
    if key in _recorded:
        return
    with database.transaction() as session:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(
            dialect.insert(LineVersion).values(id=version.id, language=version.language, flow=version.flow,
                                               prompts=version.prompts, knowledge=version.knowledge, first_heard=now)
            .on_conflict_do_nothing(index_elements=["id"])
        )  # fmt: skip
    _recorded.add(key)
