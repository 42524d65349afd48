"""Spoken numbers become the digits the caller meant, in each language; no number is no match."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from num2words import num2words

from ivr.flows.engine import Engine
from ivr.flows.inputs import Speech
from ivr.flows.nodes import Flow, Hangup, NumberEntry
from ivr.flows.state import CallState
from ivr.prompts import Catalog, Language
from ivr.speech.numbers import ENGLISH_NUMBERS, NumberWords, numbers_in, spoken_digits

FINNISH, LATVIAN = NumberWords("fi"), NumberWords("lv")
LANGUAGES = {"en": ENGLISH_NUMBERS, "fi": FINNISH, "lv": LATVIAN}
# Each language's digit words, as num2words writes them (not as this test would spell them).
DIGIT_WORDS = {code: [num2words(d, lang=code) for d in range(10)] for code in LANGUAGES}


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
    assert spoken_digits(" ".join(DIGIT_WORDS["en"][int(d)] for d in str(n))) == str(n)


@pytest.mark.parametrize(
    "said, digits",
    [
        ("viisi nolla nolla yksi", "5001"),
        ("viisikymmentä yksi", "51"),
        ("viisikymmentäyksi", "51"),
        ("viisikymmentä nolla yksi", "5001"),
        ("viisituhatta yksi", "5001"),
        ("viisi tuhatta yksi", "5001"),
        ("sata kaksikymmentäkolme", "123"),
        ("satakaksikymmentäkolme", "123"),
        ("viisisataa", "500"),
        ("viisi sataa kaksi", "502"),
        ("tuhat", "1000"),
        ("kaksikymmentäyksituhatta", "21000"),
        ("yksi nolla nolla nolla nolla kaksi", "100002"),
        ("tilausnumero on viisi nolla nolla kaksi", "5002"),
        ("Tilausnumero on VIISI NOLLA NOLLA KOLME.", "5003"),
        ("yhdeksäntoista", "19"),
        ("kymmenen nolla neljä", "1004"),
        ("5 0 0 1", "5001"),
        ("5,001", "5001"),
    ],
)
def test_finnish_numbers(said: str, digits: str) -> None:
    assert spoken_digits(said, FINNISH) == digits


@pytest.mark.parametrize(
    "said, digits",
    [
        ("pieci nulle nulle viens", "5001"),
        ("piecdesmit viens", "51"),
        ("piecdesmit nulle viens", "5001"),
        ("pieci tūkstoši viens", "5001"),
        ("tūkstotis", "1000"),
        ("divdesmit viens tūkstotis", "21000"),
        ("simts divdesmit trīs", "123"),
        ("viens simts", "100"),
        ("simts", "100"),
        ("simtu viens", "101"),
        ("simtu", "100"),
        ("divi simti", "200"),
        ("mans pasūtījums ir pieci nulle nulle divi", "5002"),
        ("PIECI NULLE NULLE ČETRI", "5004"),
        ("deviņpadsmit", "19"),
        ("viens nulle nulle nulle nulle divi", "100002"),
        ("5,001", "5001"),
    ],
)
def test_latvian_numbers(said: str, digits: str) -> None:
    assert spoken_digits(said, LATVIAN) == digits


def test_words_from_a_recogniser_in_decomposed_unicode() -> None:
    # "ū" and "ņ" as a letter and a combining mark, as some recognisers send them.
    assert spoken_digits("pieci tu\u0304kstos\u030ci devin\u0327i", LATVIAN) == "5009"


@pytest.mark.parametrize("words", [FINNISH, LATVIAN], ids=["fi", "lv"])
@pytest.mark.parametrize("said", ["", "en tiedä", "nezinu", "tilausnumero", "pasūtījums", "ja", "un"])
def test_no_number_is_no_match_in_other_languages(said: str, words: NumberWords) -> None:
    assert spoken_digits(said, words) is None


def test_english_words_are_not_numbers_in_other_languages() -> None:
    assert spoken_digits("double five oh one", FINNISH) is None
    assert spoken_digits("fifty one", LATVIAN) is None
    assert spoken_digits("viisi", ENGLISH_NUMBERS) is None


def test_several_numbers_in_one_answer() -> None:
    assert numbers_in("viisi nolla nolla yksi, ei viisikymmentä", FINNISH) == ["5001", "50"]
    assert numbers_in("pieci nulle nulle viens, nevis piecdesmit", LATVIAN) == ["5001", "50"]


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_number_num2words_writes_reads_back(code: str) -> None:
    # The words come from num2words, so whatever it writes for a number is that number again.
    for n in range(0, 10_000, 7):
        assert spoken_digits(num2words(n, lang=code), LANGUAGES[code]) == str(n), num2words(n, lang=code)


@pytest.mark.parametrize("code", LANGUAGES)
@given(digits=st.text("0123456789", min_size=4, max_size=4) | st.text("0123456789", min_size=6, max_size=6))
def test_digit_by_digit_in_every_language(code: str, digits: str) -> None:
    said = " ".join(DIGIT_WORDS[code][int(d)] for d in digits)
    assert spoken_digits(said, LANGUAGES[code]) == digits
    assert spoken_digits(f"{said}.", LANGUAGES[code]) == digits


def test_the_english_catalog_declares_the_english_extras() -> None:
    assert Catalog.load().numbers("en-US") == ENGLISH_NUMBERS
    assert Language({}, {}).numbers == ENGLISH_NUMBERS  # a catalog that says nothing of numbers


def test_declared_extras() -> None:
    about = {"numbers": "fi", "number_words": {"nol": 0}, "repeat_words": {"Tupla": 2}}
    words = NumberWords.declared(about)
    assert spoken_digits("viisi nol nol yksi", words) == "5001"
    assert spoken_digits("tupla viisi nolla yksi", words) == "5501"
    for bad, message in [
        ({"numbers": "xx"}, "num2words"),
        ({"numbers": "fi", "number_words": {"nol": 10}}, "digit"),
        ({"numbers": "fi", "number_words": ["nol"]}, "mapping"),
        ({"numbers": "fi", "number_words": {"nol": True}}, "digit"),
        ({"numbers": "fi", "repeat_words": {"tupla": 1}}, "count"),
        ({"numbers": "fi", "number_fillers": {"ja": "anywhere"}}, "between"),
        ({"numbers": "fi", "repeat_words": {"kaksi kertaa": 2}}, "one word"),
    ]:
        with pytest.raises(ValueError, match=message):
            NumberWords.declared(bad)


def test_the_engine_hears_numbers_in_the_call_s_language() -> None:
    prompts = {p: p for p in ("number", "bye", "no_input", "no_match", "no_input_again", "no_match_again", "apology")}
    catalog = Catalog({"en-US": Language(prompts, {}), "fi-FI": Language(prompts, {}, about={"numbers": "fi"})})
    nodes = {"number": NumberEntry("number", prompt="number", store_as="order", goto="bye", min_digits=4, max_digits=4),
             "bye": Hangup("bye", prompt="bye")}  # fmt: skip
    engine = Engine(Flow(nodes, start="number", main_menu="number", on_failures="bye"), catalog)
    for language, said in [("fi-FI", "viisikymmentä nolla yksi"), ("en-US", "fifty oh one")]:
        turn = engine.step(CallState("number", language=language), Speech(said, 0.9))
        assert turn.state.collected["order"] == "5001"
    assert "order" not in engine.step(CallState("number"), Speech("viisikymmentä nolla yksi", 0.9)).state.collected


@pytest.mark.parametrize(
    ("code", "aliases", "said", "digits"),
    [
        ("lv", {"simt": "simts", "piec": "pieci", "tūkstoš": "tūkstotis"}, "simt divdesmit trīs", "123"),
        ("lv", {"simt": "simts", "piec": "pieci", "tūkstoš": "tūkstotis"}, "piecsimt", "500"),
        ("lv", {"simt": "simts", "piec": "pieci", "tūkstoš": "tūkstotis"}, "piectūkstoš viens", "5001"),
        ("fi", {"viiskyt": "viisikymmentä", "yks": "yksi"}, "viiskyt yks", "51"),
        ("fi", {"viiskyt": "viisikymmentä", "yks": "yksi"}, "viiskytyks", "51"),
    ],
)
def test_everyday_forms_declared_as_aliases(code: str, aliases: dict, said: str, digits: str) -> None:
    """Callers' short forms ("simt", "viiskyt") stand for num2words' words, alone and run together."""
    words = NumberWords.declared({"numbers": code, "number_aliases": aliases})
    assert spoken_digits(said, words) == digits
    assert spoken_digits(said, NumberWords.declared({"numbers": code})) != digits  # not known without them


def test_an_alias_for_no_number_word_is_refused() -> None:
    with pytest.raises(ValueError, match="stands for 'hundert', which num2words"):
        spoken_digits("simt", NumberWords.declared({"numbers": "lv", "number_aliases": {"simt": "hundert"}}))
