"""What callers say is matched to menu options, through filler, word forms and small slips."""

from __future__ import annotations

import pytest

from ivr.prompts import Catalog
from ivr.speech.matching import is_confident, match_option

MAIN_MENU = {
    "account": ["account", "my account", "balance", "account balance", "billing", "payment"],
    "order_status": ["order status", "order", "track order", "where is my order", "delivery", "package", "shipment"],
    "questions": ["question", "questions", "faq", "help", "information", "hours"],
    "agent": ["agent", "representative", "a person", "operator", "human", "someone", "leave a message"],
}


@pytest.mark.parametrize(
    "said, option",
    [
        ("uh, I'd like to check on my order", "order_status"),
        ("um yeah the status of my orders please", "order_status"),
        ("where's my package", "order_status"),
        ("where is my order", "order_status"),
        ("I want to track an order", "order_status"),
        ("my delivery hasn't arrived", "order_status"),
        ("shipments", "order_status"),
        ("ORDER STATUS.", "order_status"),
        ("check my account balance", "account"),
        ("billing", "account"),
        ("I'd like to make a payment", "account"),
        ("my account please", "account"),
        ("I have a question", "questions"),
        ("what are your hours", "questions"),
        ("I need some help", "questions"),
        ("can I talk to a person", "agent"),
        ("representative", "agent"),
        ("operator please", "agent"),
        ("a human please", "agent"),
        ("I want to leave a message", "agent"),
        ("accounts", "account"),
        ("ordr status", "order_status"),
        ("the weather today", None),
        ("", None),
        ("uh um", None),
        ("my account and my order", None),  # two options, equally good: ask again
    ],
)
def test_main_menu_matching(said: str, option: str | None) -> None:
    assert match_option(said, MAIN_MENU) == option


def test_shipped_catalog_phrases_match_typical_callers() -> None:
    catalog = Catalog.load()
    commands = {name: catalog.phrases("en-US", name) for name in ("repeat", "main_menu", "another_order")}
    assert match_option("could you repeat that please", commands) == "repeat"
    assert match_option("take me back to the main menu", commands) == "main_menu"
    assert match_option("start over", commands) == "main_menu"
    assert match_option("another order please", commands) == "another_order"


def test_confidence_floor() -> None:
    assert is_confident(None) and is_confident(0.9)
    assert not is_confident(0.1)


def test_low_confidence_speech_is_reprompted(phone) -> None:  # type: ignore[no-untyped-def]
    call = phone()
    call.say("order status", confidence=0.1)
    call.hears("didn't get that")
    call.say("order status", confidence=0.8)
    call.hears("order number")


@pytest.mark.parametrize("name", ["english", "finnish"])
def test_stemming_from_many_threads_at_once_gives_each_word_its_own_stem(name: str) -> None:
    """The worker transcribes and indexes messages side by side, a threaded server answers steps side
    by side: a stemmer shared by threads would cut one thread's word with another's."""
    import sys
    import threading

    import snowballstemmer

    from ivr.speech.matching import stemmer_for

    words = [f"{stem}{i}{ending}" for i in range(1500) for stem, ending in (("running", "ness"), ("talo", "issa"))]
    expected = {w: snowballstemmer.stemmer(name).stemWord(w) for w in words}
    stem, wrong = stemmer_for(name), []

    def work(chunk: list[str]) -> None:
        for word in chunk:
            try:
                if stem(word) != expected[word]:
                    wrong.append(word)
            except IndexError:
                wrong.append(word)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns as often as they can
    try:
        threads = [threading.Thread(target=work, args=(words[i::8],)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert wrong == [], f"{len(wrong)} of {len(words)} words stemmed wrong, e.g. {wrong[:3]}"
