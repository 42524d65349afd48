"""What handlers may use: a database session (opened only if a handler asks), the time, the settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from ivr.hours import OpeningHours


@dataclass
class Context:
    today: dt.date
    settings: dict[str, Any] = field(default_factory=dict)
    now: dt.datetime | None = None
    hours: OpeningHours | None = None
    # A short write transaction of its own, for what must be recorded even if the caller hangs
    # up now (PIN attempts); most steps never open one.
    open_writer: Callable[[], AbstractContextManager[Session]] | None = None
    open_session: Callable[[], Session] | None = None
    _session: Session | None = None

    @property
    def session(self) -> Session:
        """A read session for look-ups; most steps never need one, so none is opened for them."""
        if self._session is None:
            if self.open_session is None:
                raise RuntimeError("this context has no database")
            self._session = self.open_session()
        return self._session

    def writing(self) -> AbstractContextManager[Session]:
        if self.open_writer is None:
            raise RuntimeError("this context cannot write to the database")
        return self.open_writer()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
