"""Values as a caller should hear them: dates relative to today, money, numbers digit by digit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


def spoken_date(day: dt.date, today: dt.date) -> str:
    """'today', 'tomorrow', 'yesterday', else 'on Friday, November 20'."""
    delta = (day - today).days
    named = {0: "today", 1: "tomorrow", -1: "yesterday"}
    if delta in named:
        return named[delta]
    return f"on {day:%A}, {day:%B} {day.day}"


def spoken_money(amount: Decimal | float | int) -> str:
    """'$42.50': Twilio's text-to-speech reads this as 'forty two dollars and fifty cents'."""
    return f"${Decimal(amount):,.2f}"


def spoken_digits(number: str) -> str:
    """'5001' -> '5 0 0 1', so text-to-speech reads it digit by digit, as callers typed it."""
    return " ".join(number)
