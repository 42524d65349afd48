"""Opening hours: when agents answer the phone, and how to tell a caller when to call back.

Configured as text so an operator can read it: `IVR_OPENING_HOURS="mon-fri 09:00-17:00; sat 10:00-14:00"`,
`IVR_HOLIDAYS="01-01, 07-04, 12-25, 2026-11-26"` (MM-DD every year, or one date), `IVR_TIMEZONE="America/New_York"`. The clock is the
real one unless `IVR_CLOCK` fixes it (the simulator's `clock:` does, so tests of hours are
deterministic).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.errors import ConfigError

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Span = tuple[dt.time, dt.time]


@dataclass(frozen=True)
class OpeningHours:
    zone: ZoneInfo
    weekly: tuple[tuple[Span, ...], ...]  # Monday first
    holidays: frozenset[dt.date]
    yearly: frozenset[tuple[int, int]] = frozenset()  # (month, day) closed every year

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> OpeningHours:
        try:
            zone = ZoneInfo(str(settings.get("TIMEZONE", "UTC")))
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"IVR_TIMEZONE {settings.get('TIMEZONE')!r} is not a time zone (e.g. America/New_York)"
            ) from None
        dates, yearly = parse_holidays(str(settings.get("HOLIDAYS", "")))
        return cls(zone, parse_weekly(str(settings.get("OPENING_HOURS", ""))), dates, yearly)

    def local(self, at: dt.datetime) -> dt.datetime:
        return at.astimezone(self.zone)

    def is_holiday(self, at: dt.datetime) -> bool:
        return self._closed_on(self.local(at).date())

    def _closed_on(self, day: dt.date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly

    def is_open(self, at: dt.datetime) -> bool:
        local = self.local(at)
        if self._closed_on(local.date()):
            return False
        return any(start <= local.time() < end for start, end in self.weekly[local.weekday()])

    def next_opening(self, at: dt.datetime) -> dt.datetime | None:
        """When agents next answer (the start of the next open span), within two weeks."""
        local = self.local(at)
        for offset in range(15):
            day = local.date() + dt.timedelta(days=offset)
            if self._closed_on(day):
                continue
            for start, _end in self.weekly[day.weekday()]:
                opening = dt.datetime.combine(day, start, self.zone)
                if opening > local:
                    return opening
        return None

    def groups(self) -> list[tuple[int, int, tuple[Span, ...]]]:
        """Runs of weekdays with the same hours: (first, last, spans), Monday 0. How a caller hears
        them is ivr/spoken.py's (Speaker.hours), in the caller's language."""
        groups: list[tuple[int, int, tuple[Span, ...]]] = []
        for index, spans in enumerate(self.weekly):
            if spans and groups and groups[-1][2] == spans and groups[-1][1] == index - 1:
                groups[-1] = (groups[-1][0], index, spans)
            elif spans:
                groups.append((index, index, spans))
        return groups


def parse_weekly(spec: str) -> tuple[tuple[Span, ...], ...]:
    """'mon-fri 09:00-17:00; sat 10:00-14:00' -> spans per weekday (Monday first)."""
    weekly: list[list[Span]] = [[] for _ in DAYS]
    for part in filter(None, (p.strip() for p in spec.lower().split(";"))):
        found = re.fullmatch(r"([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(.+)", part)
        if not found or found.group(1) not in DAYS or (found.group(2) and found.group(2) not in DAYS):
            raise ConfigError(
                f"IVR_OPENING_HOURS: cannot read {part!r}; write e.g. 'mon-fri 09:00-17:00; sat 10:00-14:00'"
            )
        first = DAYS.index(found.group(1))
        last = DAYS.index(found.group(2)) if found.group(2) else first
        for span in found.group(3).split(","):
            times = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", span)
            if not times:
                raise ConfigError(
                    f"IVR_OPENING_HOURS: cannot read the times {span.strip()!r} in {part!r} (HH:MM-HH:MM)"
                )
            h1, m1, h2, m2 = map(int, times.groups())
            try:
                start, end = dt.time(h1, m1), dt.time(h2, m2) if (h2, m2) != (24, 0) else dt.time.max
            except ValueError:
                raise ConfigError(f"IVR_OPENING_HOURS: {span.strip()!r} is not a time of day") from None
            if end <= start:
                raise ConfigError(f"IVR_OPENING_HOURS: {span.strip()!r} ends before it starts")
            for day in range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]:
                weekly[day].append((start, end))
    return tuple(tuple(sorted(spans)) for spans in weekly)


def parse_holidays(spec: str) -> tuple[frozenset[dt.date], frozenset[tuple[int, int]]]:
    """'12-25, 2026-11-26' -> ({2026-11-26}, {(12, 25)}): one-off dates and days closed every year."""
    dates: set[dt.date] = set()
    yearly: set[tuple[int, int]] = set()
    for item in (d.strip() for d in re.split(r"[,\s]+", spec) if d.strip()):
        try:
            if re.fullmatch(r"\d{2}-\d{2}", item):
                dt.date(2000, int(item[:2]), int(item[3:]))  # a real day (2000 is a leap year)
                yearly.add((int(item[:2]), int(item[3:])))
            else:
                dates.add(dt.date.fromisoformat(item))
        except ValueError:
            raise ConfigError(
                f"IVR_HOLIDAYS: {item!r} is not a date; write 12-25 for every year or 2026-11-26 for one day"
            ) from None
    return frozenset(dates), frozenset(yearly)


def now(settings: dict[str, Any]) -> dt.datetime:
    """The current time: the real one, or the one IVR_CLOCK fixes."""
    fixed = str(settings.get("CLOCK", "") or "")
    if not fixed:
        return dt.datetime.now(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(fixed)
    except ValueError:
        raise ConfigError(f"IVR_CLOCK must be a date and time like 2026-12-24T21:30:00+02:00, not {fixed!r}") from None
    # In UTC like the real clock: times stored in the database must compare in one zone.
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
