"""Every change of a knowledge-base entry kept as a version, with who and when, and taken back.

A version is a whole state of the entry (its fields), not a difference: the history reads as what
callers heard from when, and restoring one is writing it again. Undo is restoring the state before
the latest change; undoing a creation removes the entry (its history stays, by language and slug).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ivr.errors import IVRError
from ivr.models import FaqEntry, FaqVersion

# The fields a version keeps, beside the language and slug that name the entry.
KEPT = ("category", "title", "question", "answer", "keywords")


class VersionError(IVRError):
    """A version that cannot be restored now (it is not this entry's, or the entry changed since it was shown)."""


def state(entry: FaqEntry | FaqVersion) -> dict[str, object]:
    """What callers hear from an entry or a version: its kept fields, comparable."""
    return {name: list(getattr(entry, name) or []) if name == "keywords" else getattr(entry, name) for name in KEPT}


def record(session: Session, entry: FaqEntry, by: str, action: str) -> FaqVersion | None:
    """Keep `entry`'s present state as a version by `by`, unless it is the state its latest version
    has already (a `faq import` of an unchanged file adds nothing)."""
    latest = history(session, entry.language, entry.slug, 1)
    if latest and latest[0].action != "removed" and state(latest[0]) == state(entry):
        return None
    version = FaqVersion(language=entry.language, slug=entry.slug, by=by[:80], action=action, **state(entry))
    session.add(version)
    session.flush()
    return version


def history(session: Session, language: str, slug: str, limit: int | None = None) -> Sequence[FaqVersion]:
    """The entry's versions, newest first."""
    query = (
        select(FaqVersion)
        .where(FaqVersion.language == language, FaqVersion.slug == slug)
        .order_by(FaqVersion.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()


def _lock(session: Session, language: str, slug: str) -> None:
    """Lock the entry's row (PostgreSQL; SQLite writes one at a time) before its newest version is
    read: a colleague's change at the same moment is seen, not overwritten."""
    session.execute(select(FaqEntry.id).where(FaqEntry.language == language, FaqEntry.slug == slug).with_for_update())


@dataclass(frozen=True)
class Restored:
    entry: FaqEntry | None  # None: the entry was removed (an undone creation)
    version: FaqVersion  # the version the restore wrote


def restore(session: Session, version_id: int, latest_id: int, by: str) -> Restored:
    """Make the entry what version `version_id` says again, as a new version by `by`. `latest_id` is the
    newest version the person saw: if someone changed the entry since, nothing is done (VersionError),
    so no one takes back a change they have not seen."""
    version = session.get(FaqVersion, version_id)
    if version is None:
        raise VersionError("That version does not exist.")
    _lock(session, version.language, version.slug)
    newest = history(session, version.language, version.slug, 1)[0]
    if newest.id != latest_id:
        raise VersionError(
            f"The entry was changed by {newest.by} since this page was shown: look at its history again."
        )
    same = (FaqEntry.language == version.language) & (FaqEntry.slug == version.slug)
    entry = session.scalar(select(FaqEntry).where(same))
    if version.action == "removed":
        raise VersionError("That version is the entry removed: restore one before it.")
    if entry is None:
        entry = FaqEntry(language=version.language, slug=version.slug)
        session.add(entry)
    for name in KEPT:
        setattr(entry, name, list(version.keywords) if name == "keywords" else getattr(version, name))
    session.flush()
    kept = FaqVersion(language=entry.language, slug=entry.slug, by=by[:80], action="restored", **state(entry))
    session.add(kept)
    session.flush()
    return Restored(entry, kept)


def undo(session: Session, language: str, slug: str, latest_id: int, by: str) -> Restored:
    """Take back the entry's latest change: restore the version before it, or remove an entry whose
    latest version is its creation (the removal is kept as a version too)."""
    _lock(session, language, slug)
    versions = history(session, language, slug, 2)
    if not versions or versions[0].id != latest_id:
        raise VersionError("The entry was changed since this page was shown: look at its history again.")
    if len(versions) == 2 and versions[1].action != "removed":
        return restore(session, versions[1].id, latest_id, by)
    if versions[0].action == "removed":
        raise VersionError("The entry is removed already.")
    latest = versions[0]
    session.execute(delete(FaqEntry).where(FaqEntry.language == language, FaqEntry.slug == slug))
    removed = FaqVersion(language=language, slug=slug, by=by[:80], action="removed", **state(latest))
    session.add(removed)
    session.flush()
    return Restored(None, removed)
