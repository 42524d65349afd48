"""Where the copies of callers' voice messages are kept: a folder on this host, or the database.

IVR_RECORDINGS_STORE chooses where the worker keeps new copies: "folder" (IVR_DATA_DIR/recordings,
for one host; the default on SQLite) or "database" (the recording_audio table, which every host
reads, whichever host's worker made the copy; the default on PostgreSQL). A message's `audio_path`
names where its copy is: a file name in the folder ("message-42.wav") or a row of the table
("database:message-42.wav"). Reading and deleting follow the name, whatever the setting says now,
so `flask recordings move` can move copies one message at a time while the line takes calls.

Names are the app's own (made here from a message's id, never from anything a request carried);
the folder still reads only files in the folder itself.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ivr.config import ConfigError
from ivr.db import Database
from ivr.models import Message, MessageHistory, RecordingAudio

KINDS = ("folder", "database")
IN_DATABASE = "database:"


class Store(Protocol):
    kind: str

    def keep(self, message_id: int, data: bytes) -> str:
        """Keep a message's audio; the name to find it by."""
        ...

    def read(self, name: str) -> bytes | None:
        """The audio kept under `name`; None when there is none (deleted, or a name this store never made)."""
        ...

    def delete(self, name: str, session: Session) -> None:
        """Forget the audio kept under `name`, if any (a row within `session`'s transaction)."""
        ...


class Folder:
    """Copies as files in one folder of this host: only this host's processes read them."""

    kind = "folder"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def keep(self, message_id: int, data: bytes) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"message-{message_id}.wav"
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        os.replace(partial, path)  # a reader sees the whole file or none
        return path.name

    def path(self, name: str) -> Path | None:
        """The file `name` stands for: only a file in the folder itself."""
        folder = self.folder.resolve()
        path = (folder / name).resolve()
        return path if path.parent == folder and not name.startswith(IN_DATABASE) else None

    def read(self, name: str) -> bytes | None:
        path = self.path(name)
        try:
            return path.read_bytes() if path is not None else None
        except OSError:
            return None

    def delete(self, name: str, session: Session | None = None) -> None:
        path = self.path(name)
        if path is not None:
            path.unlink(missing_ok=True)

    def __str__(self) -> str:
        return str(self.folder)


class Table:
    """Copies as rows of the recording_audio table: every host reads them."""

    kind = "database"

    def __init__(self, database: Database) -> None:
        self.db = database

    def keep(self, message_id: int, data: bytes) -> str:
        name = f"{IN_DATABASE}message-{message_id}.wav"
        with self.db.transaction() as session:  # a copy made again (a retried download) replaces the first
            session.execute(delete(RecordingAudio).where(RecordingAudio.name == name))
            session.add(RecordingAudio(name=name, data=data, size=len(data)))
        return name

    def read(self, name: str) -> bytes | None:
        if not name.startswith(IN_DATABASE):
            return None
        with self.db.reading() as session:
            return session.scalar(select(RecordingAudio.data).where(RecordingAudio.name == name))

    def delete(self, name: str, session: Session) -> None:
        session.execute(delete(RecordingAudio).where(RecordingAudio.name == name))

    def __str__(self) -> str:
        return f"the database's recording_audio table ({self.db.engine.url.render_as_string(hide_password=True)})"


def kind_for(settings: Mapping[str, Any]) -> str:
    """The store new copies go to: IVR_RECORDINGS_STORE, or the database on PostgreSQL, else the folder."""
    chosen = str(settings.get("RECORDINGS_STORE") or "").strip().lower()
    if not chosen:
        return "database" if str(settings.get("DATABASE_URL", "")).startswith("postgresql") else "folder"
    if chosen not in KINDS:
        raise ConfigError(f"IVR_RECORDINGS_STORE must be one of {', '.join(KINDS)}, not {chosen!r}")
    return chosen


@dataclass
class Moved:
    """What `move` did: messages moved, already there, and those whose copy could not be read."""

    moved: int = 0
    already: int = 0
    missing: list[int] = field(default_factory=list)


class Recordings:
    """A line's copies: kept where the setting says, read and deleted where their names say."""

    def __init__(self, settings: Mapping[str, Any], database: Database) -> None:
        self.stores: dict[str, Store] = {
            "folder": Folder(Path(settings["DATA_DIR"]) / "recordings"),
            "database": Table(database),
        }
        self.keeping = self.stores[kind_for(settings)]
        self.db = database

    def holding(self, name: str) -> Store:
        """The store a name belongs to."""
        return self.stores["database" if name.startswith(IN_DATABASE) else "folder"]

    def keep(self, message_id: int, data: bytes) -> str:
        return self.keeping.keep(message_id, data)

    def read(self, name: str) -> bytes | None:
        return self.holding(name).read(name)

    def delete(self, name: str, session: Session) -> None:
        self.holding(name).delete(name, session)

    def move(self, to: str, now: dt.datetime, batch: int = 100) -> Moved:
        """Move every stored copy to the store `to`, message by message: copied, read back and compared
        byte for byte, the message pointed at the new copy, and only then the old copy deleted. A
        message whose audio changed meanwhile (retention, a retried download) keeps what it has."""
        target, done, after = self.stores[to], Moved(), 0
        while True:
            with self.db.reading() as session:
                rows = session.execute(
                    select(Message.id, Message.audio_path)
                    .where(Message.audio_status == "stored", Message.audio_path.is_not(None), Message.id > after)
                    .order_by(Message.id).limit(batch)
                ).all()  # fmt: skip
            if not rows:
                return done
            for message_id, name in rows:
                after = message_id
                if self.holding(name) is target:
                    done.already += 1
                elif self._move_one(message_id, name, target, now):
                    done.moved += 1
                else:
                    done.missing.append(message_id)

    def _move_one(self, message_id: int, name: str, target: Store, now: dt.datetime) -> bool:
        data = self.read(name)
        if data is None:
            return False
        new = target.keep(message_id, data)
        if target.read(new) != data:
            raise OSError(f"the copy of message {message_id} in {target} does not read back as it was written")
        with self.db.transaction() as session:
            pointed = session.execute(
                update(Message).where(Message.id == message_id, Message.audio_path == name).values(audio_path=new)
            )
            moved = pointed.rowcount == 1  # type: ignore[attr-defined]
            if moved:
                session.add(MessageHistory(message_id=message_id, action="audio moved", at=now,
                                           detail=f"to the {target.kind}"))  # fmt: skip
        # Only once the message names the new copy is the old one let go (or the new one, when the
        # message changed meanwhile and keeps what it has).
        with self.db.transaction() as session:
            if moved:
                self.holding(name).delete(name, session)
            else:
                target.delete(new, session)
        return True

    def __str__(self) -> str:
        return str(self.keeping)


def for_line(settings: Mapping[str, Any], database: Database) -> Recordings:
    """This line's recordings."""
    return Recordings(settings, database)
