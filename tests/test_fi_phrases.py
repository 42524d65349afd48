"""What Finnish callers say is heard as the option or command they meant (prompts/fi-FI.yaml),
through the same matching the engine uses: the catalog's filler words and Snowball's Finnish
stemmer, and a tie going to the prompt's own options before the commands. Finnish answers a
yes/no question by echoing its verb ("Oletko jo asiakkaamme?" "Olen." / "En ole."), and callers
speak colloquially ("mulla ois", "viis nolla nolla yks")."""

from __future__ import annotations

import pytest

from ivr.prompts import Catalog
from ivr.speech.numbers import spoken_digits
from tests import callers

CATALOG = Catalog.load()
LANGUAGE = "fi-FI"
MAIN = ("account", "order_status", "questions", "leave_message", "call_me_back", "language")
MENUS = {
    "main_menu": MAIN,
    "account_who": ("have_account", "new_account"),
    "anything_else": ("another_order", "nothing_else", "yes"),
    "account_menu": ("open_orders", "account_repeat", "nothing_else", "yes"),
    "faq_helpful": ("yes", "no"),
    "message_review": ("listen", "record_again", "send"),
    "message_retry": ("try_again",),
    "pin_last_try": ("enter_pin", "leave_message"),
}
# The "anything else?" menus understand the main menu's options too.
UNDERSTANDS = {"anything_else": MAIN, "account_menu": MAIN}


def heard(menu: str, said: str) -> str | None:
    return callers.heard(CATALOG, LANGUAGE, MENUS[menu], said, UNDERSTANDS.get(menu, ()))


@pytest.mark.parametrize(
    ("menu", "said", "meant"),
    [
        ("main_menu", "missä mun tilaus on", "order_status"),
        ("main_menu", "öö, niinku, paketti ei oo vielä tullut", "order_status"),
        ("main_menu", "milloin paketti tulee", "order_status"),
        ("main_menu", "paljonko mulla on velkaa", "account"),
        ("main_menu", "hei tota mulla on kysymys laskusta", "account"),
        ("main_menu", "viimeisin maksu", "account"),
        ("main_menu", "mulla ois kysymys", "questions"),
        ("main_menu", "haluun jättää soittopyynnön", "call_me_back"),
        ("main_menu", "voisitteko soittaa mulle takaisin", "call_me_back"),
        ("main_menu", "vaihda kieltä", "language"),
        ("main_menu", "latviski", "language"),
        ("main_menu", "in english", "language"),
        ("main_menu", "haluaisin puhua ihmisen kanssa", "agent"),
        ("main_menu", "yhdistä asiakaspalveluun", "agent"),
        ("main_menu", "anteeksi mitä", "repeat"),
        ("main_menu", "mitä vaihtoehtoja on", "help"),
        ("main_menu", "takaisin päävalikkoon", "main_menu"),
        ("main_menu", "kiitos hei", "goodbye"),
        ("account_who", "olen", "have_account"),
        ("account_who", "joo", "have_account"),
        ("account_who", "en ole", "new_account"),
        ("account_who", "ei", "new_account"),
        ("account_who", "haluun liittyä asiakkaaksi", "new_account"),
        ("anything_else", "ei kiitos", "nothing_else"),
        ("anything_else", "kiitos", "nothing_else"),
        ("anything_else", "siinä kaikki", "nothing_else"),
        ("anything_else", "joo", "yes"),
        ("anything_else", "joo yks juttu vielä", "yes"),
        ("anything_else", "haluun tarkistaa toisen tilauksen", "another_order"),
        ("anything_else", "mun lasku", "account"),
        ("account_menu", "mun tilaukset", "open_orders"),
        ("account_menu", "uudelleen", "account_repeat"),
        ("faq_helpful", "kyllä sain", "yes"),
        ("faq_helpful", "joo kiitos", "yes"),
        ("faq_helpful", "en saanut", "no"),
        ("faq_helpful", "ei oikeastaan", "no"),
        ("message_review", "kuuntele", "listen"),
        ("message_review", "nauhoita uudelleen", "record_again"),
        ("message_review", "aloita alusta", "record_again"),
        ("message_review", "joo lähetä se", "send"),
        ("message_retry", "yritä uudelleen", "try_again"),
        ("message_retry", "joo", "try_again"),
        ("pin_last_try", "yritän uudelleen", "enter_pin"),
        ("pin_last_try", "jätän viestin", "leave_message"),
    ],
)
def test_finnish_callers_are_heard(menu: str, said: str, meant: str) -> None:
    assert heard(menu, said) == meant


def test_finnish_numbers() -> None:
    numbers = CATALOG.numbers(LANGUAGE)
    assert spoken_digits("viis nolla nolla yks", numbers) == "5001"
    assert spoken_digits("vitonen nolla nolla kolmonen", numbers) == "5003"
    assert spoken_digits("viisituhatta ja viisi", numbers) == "5005"
    assert spoken_digits("yks nolla nolla nolla nolla kaks", numbers) == "100002"
