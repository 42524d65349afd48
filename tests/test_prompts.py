"""Every prompt, rendered with every kind of value a handler can put in it, reads as a sentence.

The values come from the same functions the handlers use (spoken dates, times, money, digits), for
today, tomorrow, a weekday, a date further off, the past, and none (the handler's fallback).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal

import pytest

from ivr.flows.account import _days, _orders_count
from ivr.hours import OpeningHours, spoken_opening
from ivr.prompts import Catalog
from ivr.spoken import spoken_date, spoken_digits, spoken_money

CATALOG = Catalog.load(defaults={"company": "Northwind"})
TODAY = dt.date(2026, 11, 24)  # a Tuesday
HOURS = OpeningHours.from_settings(
    {"TIMEZONE": "America/New_York", "OPENING_HOURS": "mon-fri 09:00-17:00; sat 10:00-14:00", "HOLIDAYS": "12-25"}
)
NOW = dt.datetime(2026, 11, 24, 7, 0, tzinfo=HOURS.zone)


def days_from_today(*offsets: int) -> list[str]:
    return [spoken_date(TODAY + dt.timedelta(days=n), TODAY) for n in offsets]


FUTURE = days_from_today(0, 1, 3, 20) + ["soon"]  # "soon": what a handler says when no date is known
PAST = days_from_today(0, -1, -3, -20)
OPENINGS = [spoken_opening(HOURS.next_opening(at), at) for at in (
    NOW,  # today at 9 AM
    NOW.replace(hour=18),  # tomorrow at 9 AM
    dt.datetime(2026, 11, 28, 15, 0, tzinfo=HOURS.zone),  # Saturday evening: Monday
    dt.datetime(2026, 12, 24, 18, 0, tzinfo=HOURS.zone),  # before a holiday
)] + [spoken_opening(None, NOW)]  # fmt: skip
# What each placeholder can hold; a prompt whose placeholder means something else names it below.
VALUES: dict[str, list[str]] = {
    "number": [spoken_digits("5002"), spoken_digits("100001")],
    "ships": FUTURE,
    "expected": FUTURE,
    "delivered": PAST,
    "due": FUTURE,
    "when": PAST,
    "next": OPENINGS,
    "carrier": ["UPS", "our carrier"],
    "tracking": [spoken_digits("6784")],
    "refund": [spoken_money(Decimal("19.99")), spoken_money(0)],
    "amount": [spoken_money(Decimal("42.5")), spoken_money(Decimal("1234"))],
    "days": [_days(1), _days(12)],
    "count": [_orders_count(n) for n in (0, 1, 3)],
    "plan": ["Standard plan"],
    "first_name": ["Ada"],
    "hours": [HOURS.describe()],
    "label": ["delivery", "returns and refunds"],
    "key": ["1", "8"],
    "answer": ["Standard delivery costs 4 dollars 99."],
    "done": ["your order", "your order and your account", "your order, your account, and your question"],
}
PER_PROMPT = {
    ("message_sent_open", "when"): ["today"],
    ("message_sent_closed", "when"): OPENINGS,
}
# Words that cannot follow each other in a sentence a person would say.
CLASHES = re.compile(r"\b(from|on|by|at|until|since|is|was) (on|today|tomorrow|yesterday|from|later|soon)\b")


def renderings(prompt_id: str) -> list[str]:
    names = sorted(CATALOG.placeholders("en-US", prompt_id) - {"company"})
    choices = [PER_PROMPT.get((prompt_id, name), VALUES[name]) for name in names]
    return [CATALOG.text("en-US", prompt_id, dict(zip(names, values, strict=True)))
            for values in itertools.product(*choices)]  # fmt: skip


PROMPT_IDS = sorted(CATALOG.languages["en-US"].prompts)


def test_every_placeholder_has_values() -> None:
    used = {name for prompt_id in PROMPT_IDS for name in CATALOG.placeholders("en-US", prompt_id)}
    assert used - {"company"} <= set(VALUES)


@pytest.mark.parametrize("prompt_id", PROMPT_IDS)
def test_a_prompt_reads_as_a_sentence_with_every_value(prompt_id: str) -> None:
    for text in renderings(prompt_id):
        if prompt_id.startswith("done_"):  # words for inside another sentence, not a sentence
            assert text == text.lower() and text.strip() == text, text
            continue
        assert text[0].isupper() and text[-1] in ".?!", text
        assert not re.search(r"[{}]|None|  | [,.?!]|[,.]{2}|\b([A-Za-z]+) \1\b", text), text
        assert not CLASHES.search(text), text


def test_the_old_slips_are_gone() -> None:
    """What a caller heard before: 'call you back from on Monday', a bare 'Main menu.', a help line
    that promised star and then read the menu anyway."""
    texts = [text for prompt_id in PROMPT_IDS for text in renderings(prompt_id)]
    assert not any("from on" in t or t in ("Main menu.", "Account service.") for t in texts)
    assert any(
        t.endswith("Our team is back on Monday, November 30 at 9 AM, and will call you back then.") for t in texts
    )
