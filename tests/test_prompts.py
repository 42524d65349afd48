"""Every prompt of every language, rendered with every kind of value a handler can put in it, reads
as a sentence in that language: no placeholder, no `None`, and no English word left in another.

The values come from the same Speaker the handlers use (ivr/spoken.py), in the prompt's language:
today, tomorrow, a weekday, a date next month, the past, money with cents and without, a count of
1, 2 and 5 (plural forms), opening hours and the next opening, and each handler's fallback word.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal

import pytest

from ivr.flows import handler_prompts
from ivr.hours import OpeningHours
from ivr.prompts import Catalog
from ivr.spoken import VALUE_PROMPTS, Speaker, spoken_digits

CATALOG = Catalog.load(defaults={"company": "Northwind"})
LANGUAGES = sorted(CATALOG.languages)
TODAY = dt.date(2026, 11, 24)  # a Tuesday
HOURS = OpeningHours.from_settings(
    {"TIMEZONE": "America/New_York", "OPENING_HOURS": "mon-fri 09:00-17:00; sat 10:00-14:00", "HOLIDAYS": "12-25"}
)
NOW = dt.datetime(2026, 11, 24, 7, 0, tzinfo=HOURS.zone)
MOMENTS = (
    NOW,  # today at 9 AM
    NOW.replace(hour=18),  # tomorrow at 9 AM
    dt.datetime(2026, 11, 28, 15, 0, tzinfo=HOURS.zone),  # Saturday evening: Monday
    dt.datetime(2026, 12, 24, 18, 0, tzinfo=HOURS.zone),  # before a holiday
)
# Prompts that are words for inside another prompt, not sentences of their own.
FRAGMENTS = set(VALUE_PROMPTS) | {p for p in CATALOG.languages["en-US"].prompts if p.startswith("done_")}
# A text message's words, not a sentence said: the company and the link.
FRAGMENTS.add("text_body")
# A time a callback may be made ("as soon as someone is free"), said inside "For ..., press 1."
FRAGMENTS.add("callback_soon")
# Words of English that must not be left in another language's sentences, but for those that are
# also words of that language (Latvian "to" is "that", Finnish "on" is "is").
ENGLISH = {"the", "and", "press", "please", "your", "order", "today", "tomorrow", "yesterday", "on", "at", "to",
           "of", "soon", "later", "AM", "PM", "day", "days", "Monday", "Tuesday", "Friday", "November", "December",
           "none", "None"}  # fmt: skip
ALSO_THEIRS = {"lv-LV": {"to"}, "fi-FI": {"on"}}


def english_in(language: str, text: str) -> set[str]:
    return (set(re.findall(r"\w+", text.replace("UPS", ""))) & ENGLISH) - ALSO_THEIRS.get(language, set())


def values(language: str) -> dict[str, list[str]]:
    """What each placeholder can hold in `language`, made as the handlers make it."""
    speak = Speaker(CATALOG, language, TODAY)

    def days(*offsets: int) -> list[str]:
        return [speak.date(TODAY + dt.timedelta(days=n)) for n in offsets]

    future = days(0, 1, 3, 20, 40) + [speak.word("soon")]
    openings = [speak.opening(HOURS.next_opening(at), at) for at in MOMENTS] + [speak.opening(None, NOW)]
    done = [CATALOG.text(language, f"done_{d}") for d in ("order_status", "account", "answer", "product")]
    return {
        "number": [spoken_digits("5002"), spoken_digits("100001")],
        "ships": future,
        "expected": future,
        "delivered": days(0, -1, -3, -20) + [speak.word("recently")],
        "due": future,
        "when": days(0, -1, -3, -40),
        "next": openings,
        "carrier": ["UPS", speak.word("our_carrier")],
        "tracking": [spoken_digits("6784")],
        "refund": [speak.money(Decimal("19.99")), speak.money(0)],
        "amount": [speak.money(Decimal("42.5")), speak.money(Decimal("1234"))],
        "days": ["1", "2", "5", "12", "21"],
        "count": ["1", "2", "5", "21"],
        "plan": ["Standard"],
        "first_name": ["Ada"],
        "hours": [speak.hours(HOURS)],
        "label": ["Latviski", "Suomeksi", "English"],
        "key": ["1", "8"],
        "answer": ["Northwind: 4,99 €."],
        "title": [TITLES[language]],
        "done": [done[0], ", ".join(done)],
        "day": days(0, 1, 3, 20),
        "time": [speak.time(dt.time(9)), speak.time(dt.time(13, 30))],
        "first": [speak.weekday(0, "from")],
        "last": [speak.weekday(4, "to")],
        "start": [speak.time(dt.time(9))],
        "end": [speak.time(dt.time(17)), speak.word("midnight")],
        "name": [PRODUCTS[language]],
        "price": [speak.money(Decimal("39")), speak.money(Decimal("4.5"))],
        "size": ["42", "XL"],
        "link": [f"https://help.example.com/help/orders?lang={language}"],
    }


# A product's name in each language, as the demo directory gives it.
PRODUCTS = {"en-US": "Electric kettle", "fi-FI": "Vedenkeitin", "lv-LV": "Elektriskā tējkanna"}


# An entry's title in each language, as a knowledge-base entry gives it.
TITLES = {"en-US": "delivery times", "fi-FI": "toimitusajat", "lv-LV": "piegādes laiks"}


def renderings(language: str, prompt_id: str) -> list[str]:
    table = values(language)
    names = sorted(CATALOG.placeholders(language, prompt_id) - {"company"})
    if prompt_id == "opening_span":
        table["days"] = [speak_days(language)]
        table["times"] = [CATALOG.text(language, "opening_times", {"start": "9", "end": "17"})]
    if prompt_id == "message_sent_open":
        table["when"] = [CATALOG.text(language, "day_today")]
    if prompt_id == "message_sent_closed":
        table["when"] = table["next"]
    choices = [table[name] for name in names]
    return [CATALOG.text(language, prompt_id, dict(zip(names, chosen, strict=True)))
            for chosen in itertools.product(*choices)]  # fmt: skip


def speak_days(language: str) -> str:
    speak = Speaker(CATALOG, language, TODAY)
    return speak.word("opening_days", first=speak.weekday(0, "from"), last=speak.weekday(4, "to"))


CASES = [(language, prompt_id) for language in LANGUAGES for prompt_id in sorted(CATALOG.languages[language].prompts)]


def test_every_language_has_every_prompt_a_handler_or_value_says() -> None:
    for language in LANGUAGES:
        assert set(handler_prompts()) <= CATALOG.languages[language].prompts.keys(), language


@pytest.mark.parametrize(("language", "prompt_id"), CASES)
def test_a_prompt_reads_as_a_sentence_with_every_value(language: str, prompt_id: str) -> None:
    for text in renderings(language, prompt_id):
        assert not re.search(r"[{}]|\bNone\b|  | [,.?!]|[,.]{2}", text), text
        if language != "en-US" and prompt_id not in ("language_offer", "language_welcome"):
            assert not english_in(language, text), f"{language} {prompt_id}: {text}"
        if prompt_id in FRAGMENTS:
            assert text.strip() == text and not text.endswith("."), text
            continue
        assert text[0].isupper() and text[-1] in ".?!", text


def test_plural_prompts_follow_the_count_in_each_language() -> None:
    for language in LANGUAGES:
        one, five = (CATALOG.text(language, "open_orders_count", {"count": n}) for n in ("1", "5"))
        assert one != five, language
        assert "5" in five, language


def test_english_reads_as_before() -> None:
    """What a caller heard before, and the old slips gone: 'call you back from on Monday'."""
    texts = [text for prompt_id in CATALOG.languages["en-US"].prompts for text in renderings("en-US", prompt_id)]
    assert not any("from on" in t or t in ("Main menu.", "Account service.") for t in texts)
    assert any(
        t.endswith("Our team is back on Monday, November 30 at 9 AM, and will call you back then.") for t in texts
    )
    assert "Your balance of $42.50 is overdue by 1 day." in texts
    assert "Your balance of $1,234.00 is overdue by 12 days." in texts
    assert "You have one open order." in texts and "You have 5 open orders." in texts
    clashes = re.compile(r"\b(from|on|by|at|until|since|is|was) (on|today|tomorrow|yesterday|from|later|soon)\b")
    assert not any(clashes.search(t) for t in texts)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_phrase_list_repeats_a_phrase(language: str) -> None:
    """The first six phrases of a list are the recogniser's hints: a repeat wastes one."""
    for name, phrases in CATALOG.languages[language].phrases.items():
        assert len(phrases) == len(set(phrases)), (language, name)
