"""Spoken numbers to digits: "five zero zero one", "fifty oh one", "five thousand and one" -> 5001.

Callers read numbers in many ways; every number entry (orders, accounts) goes through here. Words
that are not numbers are ignored, and an answer with no number at all gives None (a no-match, so
the caller is asked again rather than told a wrong number was not found).
"""

from __future__ import annotations

import re

UNITS = {"zero": 0, "oh": 0, "o": 0, "nought": 0, "nil": 0, "one": 1, "two": 2, "three": 3, "four": 4,
         "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}  # fmt: skip
TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
         "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}  # fmt: skip
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
SCALES = {"hundred": 100, "thousand": 1000}
REPEATS = {"double": 2, "triple": 3}
NUMBER_WORDS = set(UNITS) | set(TEENS) | set(TENS) | set(SCALES) | set(REPEATS)


def _tokens(text: str) -> list[str]:
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text.lower())  # "5,001" -> "5001"
    return re.findall(r"[0-9]+|[a-z]+", text.replace("-", " "))  # ASCII digits: int() takes others too


def _cardinal(words: list[str]) -> int:
    """'five thousand and one' -> 5001 (the run contains hundred or thousand)."""
    total, current = 0, 0
    for word in words:
        if word in UNITS:
            current += UNITS[word]
        elif word in TEENS:
            current += TEENS[word]
        elif word in TENS:
            current += TENS[word]
        elif word == "hundred":
            current = (current or 1) * 100
        elif word == "thousand":
            total += (current or 1) * 1000
            current = 0
    return total + current


def _digit_by_digit(words: list[str]) -> str:
    out: list[str] = []
    repeat = 1
    i = 0
    while i < len(words):
        word = words[i]
        if word in REPEATS:
            repeat = REPEATS[word]
        elif word.isdigit():
            out.append(word * repeat)
            repeat = 1
        elif word in UNITS:
            out.append(str(UNITS[word]) * repeat)
            repeat = 1
        elif word in TEENS:
            out.append(str(TEENS[word]))
        elif word in TENS:
            following = words[i + 1] if i + 1 < len(words) else ""
            if following in UNITS and UNITS[following] != 0:
                out.append(str(TENS[word] + UNITS[following]))
                i += 1
            else:
                out.append(str(TENS[word]))
        i += 1
    return "".join(out)


def spoken_digits(text: str) -> str | None:
    """The digits a caller meant, or None when they said no number."""
    return "".join(numbers_in(text)) or None


def numbers_in(text: str) -> list[str]:
    """Each number said in `text` ("order five zero zero one, not fifty" -> ["5001", "50"])."""
    tokens = _tokens(text)
    runs: list[list[str]] = [[]]
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token.isdigit() or token in NUMBER_WORDS:
            runs[-1].append(token)
        elif token == "a" and following in SCALES:
            runs[-1].append("one")  # "a hundred"
        elif token == "and" and runs[-1] and following in NUMBER_WORDS:
            continue  # "one hundred and five"
        elif runs[-1]:
            runs.append([])
    return [str(_cardinal(run)) if SCALES.keys() & set(run) else _digit_by_digit(run) for run in runs if run]
