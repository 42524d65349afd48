"""What handlers may use: a database session (opened only if a handler asks), the time, the settings,
and the prompt catalog (to put words of the caller's language into a sentence, like a list)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from ivr import hours as clock
from ivr.hours import OpeningHours
from ivr.languages import Languages
from ivr.prompts import Catalog
from ivr.spoken import Speaker


@dataclass
class Context:
    settings: dict[str, Any] = field(default_factory=dict)
    hours: OpeningHours | None = None
    # A short write transaction of its own, for what must be recorded even if the caller hangs
    # up now (PIN attempts); most steps never open one.
    open_writer: Callable[[], AbstractContextManager[Session]] | None = None
    open_session: Callable[[], Session] | None = None
    catalog: Catalog | None = None
    languages: Languages = field(default_factory=lambda: Languages(("en-US",), {}, {}))
    _session: Session | None = None

    # The time is read when a handler first asks (most steps never do), then stays fixed for the step.
    @cached_property
    def now(self) -> dt.datetime:
        """Now, in UTC: the real clock, or the one IVR_CLOCK fixes."""
        return clock.now(self.settings)

    @cached_property
    def today(self) -> dt.date:
        """Today where the business is (its time zone), or in UTC without opening hours."""
        return (self.hours.local(self.now) if self.hours else self.now).date()

    @property
    def session(self) -> Session:
        """A read session for look-ups; most steps never need one, so none is opened for them."""
        if self._session is None:
            if self.open_session is None:
                raise RuntimeError("this context has no database")
            self._session = self.open_session()
        return self._session

    def text(self, language: str, prompt_id: str) -> str:
        """A prompt's words, to be put inside another prompt."""
        if self.catalog is None:
            raise RuntimeError("this context has no prompt catalog")
        return self.catalog.text(language, prompt_id)

    def speaker(self, language: str) -> Speaker:
        """Dates, times, money and opening hours as callers of `language` hear them."""
        if self.catalog is None:
            raise RuntimeError("this context has no prompt catalog")
        return Speaker(self.catalog, language, self.today, str(self.settings.get("CURRENCY") or "USD"))

    def language_name(self, language: str) -> str:
        """A language's own name for itself (its catalog's `language: name:`)."""
        if self.catalog is None:
            raise RuntimeError("this context has no prompt catalog")
        return str(self.catalog.about(language).get("name") or language)

    def writing(self) -> AbstractContextManager[Session]:
        if self.open_writer is None:
            raise RuntimeError("this context cannot write to the database")
        return self.open_writer()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
