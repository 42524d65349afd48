"""The main menu takes anything said in the caller's own words: an option by its meaning, otherwise
a question for the knowledge base (as bench/faq.py measures on the phrasing tables)."""

from __future__ import annotations

import pytest

from bench.faq import HELD_OUT, PERSONAL, TARGETS, at_main_menu, main_menu_cases, phrasings, questions, score_main_menu
from ivr.flows import build_flow
from ivr.flows.engine import Engine
from ivr.knowledge.entries import DEMO_FILE, read_file
from ivr.models import FaqEntry
from ivr.prompts import Catalog

ENGINE = Engine(build_flow(), Catalog.load(), {})
ENTRIES = [FaqEntry(**dict(e)) for e in read_file(DEMO_FILE)]


@pytest.mark.parametrize(
    ("said", "kind", "reaches"),
    [
        ("how much is shipping", "answers", "delivery_costs"),
        ("can I return a broken item", "answers", "returns"),
        ("I forgot my password", "answers", "reset_password"),
        ("uh, I'd like to check on my order", "option", "order_number"),
        ("where's my package", "option", "order_number"),
        ("how much do I owe", "option", "account_start"),
        ("a real person please", "option", "agent_hours"),
        ("I'd like to leave a message", "option", "message_by_choice"),
        ("I have a question", "option", "faq_start"),
        ("goodbye", "option", "goodbye"),
    ],
)
def test_what_the_issue_named_reaches_the_right_place(said: str, kind: str, reaches: str) -> None:
    got_kind, got = at_main_menu(ENGINE, ENTRIES, said)
    assert (got_kind, got[:1]) == (kind, [reaches])


def test_words_that_find_nothing_fall_back_to_the_option_they_resemble() -> None:
    # No knowledge-base entry speaks of stuff; "where is my stuff" still means an order.
    assert at_main_menu(ENGINE, ENTRIES, "so where is my stuff then") == ("option", ["order_number"])
    assert at_main_menu(ENGINE, ENTRIES, "the weather is lovely today in paris") == ("nothing", [])


def test_the_tables_reach_95_percent_and_no_personal_phrasing_goes_to_the_knowledge_base() -> None:
    score = score_main_menu(ENGINE, ENTRIES, main_menu_cases(questions() + phrasings()))
    assert score.reached >= 0.95, score.misses
    assert score.personal >= 40 and score.to_kb == 0, score.misses
    assert set(PERSONAL) <= set(TARGETS)


@pytest.mark.parametrize("table", [name for _, name in HELD_OUT])
def test_the_tables_written_apart_stay_above_90_percent(table: str) -> None:
    """Phrasings the lists were not written from: how far the lists and thresholds carry."""
    score = score_main_menu(ENGINE, ENTRIES, main_menu_cases(phrasings(table)))
    assert score.reached >= 0.9, score.misses
    assert score.to_kb <= 0.06 * score.personal, score.misses
