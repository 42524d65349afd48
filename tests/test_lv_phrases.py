"""What Latvian callers say is heard as the option or command they meant (prompts/lv-LV.yaml),
through the same matching the engine uses: the catalog's filler words and LatvianStemmer, and a tie
going to the prompt's own options before the commands."""

from __future__ import annotations

import pytest

from ivr.prompts import Catalog
from ivr.speech.numbers import spoken_digits
from tests import callers

CATALOG = Catalog.load()
LANGUAGE = "lv-LV"
MENUS = {
    "main_menu": ("account", "order_status", "questions", "leave_message", "call_me_back", "language"),
    "account_who": ("have_account", "new_account"),
    "anything_else": ("another_order", "nothing_else", "yes"),
    "account_menu": ("open_orders", "account_repeat", "nothing_else", "yes"),
    "faq_helpful": ("yes", "no"),
    "message_review": ("listen", "record_again", "send"),
    "message_retry": ("try_again",),
}


def heard(menu: str, said: str) -> str | None:
    return callers.heard(CATALOG, LANGUAGE, MENUS[menu], said)


@pytest.mark.parametrize(
    ("menu", "said", "meant"),
    [
        ("main_menu", "kur ir mans pasūtījums", "order_status"),
        ("main_menu", "nu ē, kad pienāks mana paka", "order_status"),
        ("main_menu", "es gribētu uzzināt sava konta atlikumu", "account"),
        ("main_menu", "man ir jautājums par rēķinu", "account"),
        ("main_menu", "man ir jautājums", "questions"),
        ("main_menu", "atzvaniet man, lūdzu", "call_me_back"),
        ("main_menu", "mainīt valodu", "language"),
        ("main_menu", "suomeksi", "language"),
        ("main_menu", "gribu runāt ar cilvēku", "agent"),
        ("main_menu", "savienojiet mani ar konsultantu", "agent"),
        ("main_menu", "atkārtojiet, lūdzu", "repeat"),
        ("main_menu", "kādas ir iespējas", "help"),
        ("main_menu", "uz galveno izvēlni", "main_menu"),
        ("account_who", "jā", "have_account"),
        ("account_who", "jā, esmu klients", "have_account"),
        ("account_who", "nē", "new_account"),
        ("account_who", "man nav konta", "new_account"),
        ("anything_else", "nē, paldies", "nothing_else"),
        ("anything_else", "paldies", "nothing_else"),
        ("anything_else", "jā", "yes"),
        ("anything_else", "cits pasūtījums", "another_order"),
        ("anything_else", "tas ir viss", "nothing_else"),
        ("account_menu", "mani pasūtījumi", "open_orders"),
        ("account_menu", "vēlreiz", "account_repeat"),
        ("faq_helpful", "jā, palīdzēja", "yes"),
        ("faq_helpful", "nē, nepalīdzēja", "no"),
        ("faq_helpful", "ne īsti", "no"),
        ("message_review", "noklausīties", "listen"),
        ("message_review", "ierakstīt no jauna", "record_again"),
        ("message_review", "nosūtiet", "send"),
        ("message_retry", "mēģināt vēlreiz", "try_again"),
    ],
)
def test_latvian_callers_are_heard(menu: str, said: str, meant: str) -> None:
    assert heard(menu, said) == meant


def test_latvian_numbers() -> None:
    numbers = CATALOG.numbers(LANGUAGE)
    assert spoken_digits("pieci nulle nulle viens", numbers) == "5001"
    assert spoken_digits("piecdesmit nulle trīs", numbers) == "5003"
    assert spoken_digits("viens nulle nulle nulle nulle divi", numbers) == "100002"
