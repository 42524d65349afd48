"""Values as callers of one language hear them: dates relative to today, times, money, opening hours.

Babel's CLDR data gives each language its day and month names, its times and its money; the catalog
gives the rest (`language:` block and the value prompts below), so a language whose sentences need
a weekday in another case ("perjantaina", "piektdien") declares those forms instead of new code.

The catalog's `language:` keys read here (all optional):
  date: "on {weekday}, {month} {day}"   a day that is not today, tomorrow or yesterday
  time: "h:mm a"   hour: "h a"          Babel patterns for a time, and for a whole hour
  weekdays: {date: [7 names], from: [...], to: [...], alone: [...]}   Monday first; else Babel's
  months: {date: [12 names]}                                          January first; else Babel's
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from babel.dates import format_date, format_time, get_day_names
from babel.lists import format_list
from babel.numbers import format_currency

from ivr.prompts import locale_of

if TYPE_CHECKING:
    from ivr.hours import OpeningHours
    from ivr.prompts import Catalog

# Prompts the value functions say, with the {values} each gets: `flows check` finds them in every
# catalog like a handler's.
VALUE_PROMPTS: dict[str, set[str]] = {
    "day_today": set(),
    "day_tomorrow": set(),
    "day_yesterday": set(),
    "day_at_time": {"day", "time"},
    "opening_later": set(),
    "opening_days": {"first", "last"},
    "opening_times": {"start", "end"},
    "opening_span": {"days", "times"},
    "opening_none": set(),
    "midnight": set(),
    "soon": set(),
    "recently": set(),
    "our_carrier": set(),
}


def spoken_digits(number: str) -> str:
    """'5001' -> '5 0 0 1', so text-to-speech reads it digit by digit, as callers typed it."""
    return " ".join(number)


class Speaker:
    """Values for one call's language, for a handler to put in its prompts."""

    def __init__(self, catalog: Catalog, language: str, today: dt.date, currency: str = "USD") -> None:
        self.catalog, self.language, self.today, self.currency = catalog, language, today, currency
        self.locale = locale_of(language)
        self.about: dict[str, Any] = catalog.about(language)

    def word(self, prompt_id: str, **values: str) -> str:
        """A value prompt's words in this language ("today", "soon", "{day} at {time}")."""
        return self.catalog.text(self.language, prompt_id, values)

    def digits(self, number: str) -> str:
        return spoken_digits(number)

    def money(self, amount: Decimal | float | int) -> str:
        """'$42.50' in English, '42,50 $' in Finnish: the form the language's text-to-speech reads."""
        return format_currency(Decimal(amount), self.currency, locale=self.locale)

    def date(self, day: dt.date, today: dt.date | None = None) -> str:
        """'today', 'tomorrow', 'yesterday', else the language's `date` pattern."""
        named = {0: "day_today", 1: "day_tomorrow", -1: "day_yesterday"}.get((day - (today or self.today)).days)
        if named:
            return self.word(named)
        pattern = str(self.about.get("date", "{weekday} {day} {month}"))
        return pattern.format(weekday=self.weekday(day.weekday(), "date"), month=self.month(day.month, "date"),
                              day=day.day, year=day.year)  # fmt: skip

    def weekday(self, index: int, role: str) -> str:
        """Monday is 0; the catalog's form for this role (a case), or Babel's name."""
        forms = (self.about.get("weekdays") or {}).get(role)
        return str(forms[index]) if forms else get_day_names("wide", locale=self.locale)[index]

    def month(self, number: int, role: str) -> str:
        forms = (self.about.get("months") or {}).get(role)
        return str(forms[number - 1]) if forms else format_date(dt.date(2000, number, 1), "MMMM", locale=self.locale)

    def time(self, moment: dt.time) -> str:
        """'9 AM', '5:30 PM', 'midnight' (or the language's own patterns)."""
        if moment == dt.time.max:
            return self.word("midnight")
        pattern = self.about.get("hour" if moment.minute == 0 else "time", "H:mm")
        return format_time(moment, str(pattern), locale=self.locale)

    def opening(self, opening: dt.datetime | None, at: dt.datetime) -> str:
        """When agents are next there: 'today at 1 PM', 'on Monday, December 28 at 9 AM', or 'later'."""
        if opening is None:
            return self.word("opening_later")
        day = self.date(opening.date(), at.astimezone(opening.tzinfo).date())
        return self.word("day_at_time", day=day, time=self.time(opening.time()))

    def hours(self, hours: OpeningHours) -> str:
        """'Monday to Friday, 9 AM to 5 PM; Saturday, 10 AM to 2 PM', in this language."""
        parts = []
        for first, last, spans in hours.groups():
            days = (self.weekday(first, "alone") if first == last
                    else self.word("opening_days", first=self.weekday(first, "from"), last=self.weekday(last, "to")))  # fmt: skip
            times = [self.word("opening_times", start=self.time(start), end=self.time(end)) for start, end in spans]
            parts.append(self.word("opening_span", days=days, times=format_list(times, locale=self.locale)))
        return "; ".join(parts) or self.word("opening_none")
