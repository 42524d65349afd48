"""Spoken numbers become the digits the caller meant; no number is no match."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.speech.numbers import UNITS, spoken_digits

WORDS = {v: k for k, v in UNITS.items() if k not in ("oh", "o", "nought", "nil")}


@pytest.mark.parametrize(
    "said, digits",
    [
        ("five zero zero one", "5001"),
        ("5 0 0 1", "5001"),
        ("5001", "5001"),
        ("50 01", "5001"),
        ("5,001", "5001"),
        ("order fifty oh one", "5001"),
        ("fifty oh one", "5001"),
        ("Fifty-one", "51"),
        ("fifty one", "51"),
        ("fifty", "50"),
        ("nineteen", "19"),
        ("double five oh one", "5501"),
        ("triple seven", "777"),
        ("my order number is five thousand and one", "5001"),
        ("five thousand one", "5001"),
        ("twelve hundred", "1200"),
        ("one hundred and five", "105"),
        ("a hundred", "100"),
        ("fifty five hundred", "5500"),
        ("forty two thousand five hundred", "42500"),
        ("uh, it's five oh oh three", "5003"),
        ("um my order is 5 0 0 4 please", "5004"),
        ("five o o five", "5005"),
        ("nought nought seven", "007"),
        ("one two three four five six", "123456"),
        ("twenty twenty", "2020"),
        ("it's ten oh four", "1004"),
        ("five thousand and three", "5003"),
        ("FIVE ZERO ZERO TWO.", "5002"),
        ("account one zero zero zero zero one", "100001"),
    ],
)
def test_spoken_numbers(said: str, digits: str) -> None:
    assert spoken_digits(said) == digits


@pytest.mark.parametrize("said", ["", "I don't know", "order", "check my order status please", "uh", "and"])
def test_no_number_is_no_match(said: str) -> None:
    assert spoken_digits(said) is None


@given(st.integers(min_value=0, max_value=10**6))
def test_digits_and_digit_words_round_trip(n: int) -> None:
    assert spoken_digits(str(n)) == str(n)
    assert spoken_digits(" ".join(WORDS[int(d)] for d in str(n))) == str(n)
