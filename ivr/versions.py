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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.db import Database
from ivr.models import FaqEntry, LineVersion, as_utc

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


def knowledge_digest(session: Session, language: str) -> str:
    """The language's knowledge base: how many entries, the newest, the latest revision."""
    count, newest, revised = session.execute(
        select(func.count(FaqEntry.id), func.max(FaqEntry.id), func.max(FaqEntry.revised_at)).where(
            FaqEntry.language == language
        )
    ).one()
    return _digest(count, newest, as_utc(revised).isoformat() if isinstance(revised, dt.datetime) else revised)


@dataclass(frozen=True)
class Version:
    id: str
    language: str
    flow: str
    prompts: str
    knowledge: str


def current(session: Session, catalog: Any, language: str) -> Version:
    """The version a call in `language` hears now."""
    flow, prompts = flow_digest(), catalog.digest(language) if catalog is not None else ""
    knowledge = knowledge_digest(session, language)
    return Version(_digest(flow, language, prompts, knowledge), language, flow, prompts, knowledge)


def record(database: Database, version: Version, now: dt.datetime) -> None:
    """Keep the version's parts and when it was first heard: once (hosts may race to write it), and
    not again by this process."""
    key = (database.url, version.id)
    if key in _recorded:
        return
    with database.transaction() as session:
        if session.get(LineVersion, version.id) is None:
            insert = _insert_for(session)
            session.execute(
                insert(LineVersion).values(id=version.id, language=version.language, flow=version.flow,
                                           prompts=version.prompts, knowledge=version.knowledge, first_heard=now)
                .on_conflict_do_nothing(index_elements=["id"])
            )  # fmt: skip
    _recorded.add(key)


def _insert_for(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert
