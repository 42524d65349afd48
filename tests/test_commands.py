"""The commands that work at every prompt, tried from every prompt of the shipped flow.

The engine runs on its own here (no Flask, no database): the handlers the commands lead to need
only the clock, the opening hours and the prompt catalog.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.flows import build_flow
from ivr.flows.actions import Connect, HangUp
from ivr.flows.context import Context
from ivr.flows.engine import Engine
from ivr.flows.inputs import Keys, Speech
from ivr.flows.nodes import WAITING, NumberEntry
from ivr.flows.state import CallState
from ivr.hours import OpeningHours
from ivr.prompts import Catalog

FLOW = build_flow()
CATALOG = Catalog.load()
SETTINGS = {
    "AGENTS_NUMBER": "+15550100099",
    "TIMEZONE": "America/New_York",
    "OPENING_HOURS": "mon-fri 09:00-17:00; sat 10:00-14:00",
    "HOLIDAYS": "12-25",
    "MAX_RETRIES": 3,
}
HOURS = OpeningHours.from_settings(SETTINGS)
IN_HOURS, OUT_OF_HOURS = "2026-11-24T10:30:00-05:00", "2026-11-24T21:00:00-05:00"  # a Tuesday
PROMPTS = sorted(node_id for node_id, node in FLOW.nodes.items() if isinstance(node, WAITING))
# Prompts that take keys only (a PIN is never said): the commands there are keys.
KEYS_ONLY = {
    node_id for node_id in PROMPTS if isinstance(FLOW.nodes[node_id], NumberEntry) and not FLOW.nodes[node_id].speech
}
AROUND = st.sampled_from([("", ""), ("uh, ", ""), ("", " please"), ("um I'd like to ", ""), ("yeah ", " thanks")])
# A goodbye is said on its own, perhaps with a sound around it.
AROUND_GOODBYE = st.sampled_from([("", ""), ("uh, ", ""), ("", ", please"), ("well, ", ""), ("oh ", " then")])


def engine() -> Engine:
    return Engine(FLOW, CATALOG, SETTINGS)


def at(node_id: str) -> CallState:
    """A call waiting at `node_id`, with what its prompt needs (choices found, an account to check)."""
    choices = [{"label": "delivery", "value": "delivery"}, {"label": "returns", "value": "returns"}]
    offers = [{"label": "English", "value": "en-US", "language": "en-US"}]
    products = [{"label": "Electric kettle", "value": "KI-301"}, {"label": "Glass kettle", "value": "KI-302"}]
    times = [{"label": "as soon as someone is free", "value": "now"}]
    return CallState(node=node_id, step=4, collected={"faq_choices": choices, "account_candidate": 1,
                                                      "language_choices": offers, "product_choices": products,
                                                      "callback_choices": times})  # fmt: skip


def context(clock: str) -> Context:
    return Context(settings={**SETTINGS, "CLOCK": clock}, hours=HOURS, catalog=CATALOG)


def phrases(name: str) -> list[str]:
    return CATALOG.phrases("en-US", name)


def test_the_flow_declares_the_commands() -> None:
    names = {command.name: command for command in FLOW.commands}
    assert set(names) == {"agent", "main_menu", "repeat", "help", "goodbye"}
    assert (names["agent"].key, names["main_menu"].key, names["repeat"].key) == ("0", "9", "*")
    assert len(PROMPTS) > 15


@settings(max_examples=300, deadline=None)
@given(
    node_id=st.sampled_from(PROMPTS),
    by_voice=st.booleans(),
    phrase=st.sampled_from(phrases("agent")),
    around=AROUND,
    open_now=st.booleans(),
)
def test_a_person_is_one_step_away_from_every_prompt(node_id, by_voice, phrase, around, open_now) -> None:  # type: ignore[no-untyped-def]
    said = Speech(f"{around[0]}{phrase}{around[1]}") if by_voice and node_id not in KEYS_ONLY else Keys("0")
    turn = engine().step(at(node_id), said, context(IN_HOURS if open_now else OUT_OF_HOURS))
    if open_now:
        assert any(isinstance(a, Connect) for a in turn.actions), (node_id, said, turn.said)
    else:
        assert turn.state.node == "callback_offer", (node_id, said, turn.said)
        assert "closed_now" in turn.said


@settings(max_examples=200, deadline=None)
@given(node_id=st.sampled_from(sorted(set(PROMPTS) - KEYS_ONLY)), phrase=st.sampled_from(phrases("goodbye")),
       around=AROUND_GOODBYE, helped=st.booleans())  # fmt: skip
def test_goodbye_ends_the_call_within_two_steps(node_id, phrase, around, helped) -> None:  # type: ignore[no-untyped-def]
    state = at(node_id)
    if helped:
        state.collected["helped"], state.outcome = ["order_status"], "helped"
    said = Speech(f"{around[0]}{phrase}{around[1]}")
    turn = engine().step(state, said, context(IN_HOURS))
    if not isinstance(turn.actions[-1], HangUp):
        turn = engine().step(turn.state, said, context(IN_HOURS))
    assert isinstance(turn.actions[-1], HangUp), (node_id, said, turn.said)
    if node_id != "message_review":  # there "I'm done" means "send it", and the goodbye says it was sent
        assert turn.said[-1] == ("goodbye_helped" if helped else "goodbye")
        assert turn.state.outcome == ("helped" if helped else "gave_up")


@settings(max_examples=100, deadline=None)
@given(node_id=st.sampled_from(PROMPTS), by_voice=st.booleans())
def test_star_repeats_and_nine_goes_to_the_main_menu_from_every_prompt(node_id, by_voice) -> None:  # type: ignore[no-untyped-def]
    voice = by_voice and node_id not in KEYS_ONLY
    repeated = engine().step(at(node_id), Speech("say that again") if voice else Keys("*"), context(IN_HOURS))
    assert repeated.state.node == node_id and repeated.matched == "repeat"
    home = engine().step(at(node_id), Speech("main menu") if voice else Keys("9"), context(IN_HOURS))
    assert home.state.node == "main_menu"


def test_a_zero_inside_a_number_stays_a_digit() -> None:
    state = at("order_number")
    for digits in ("5002", "0100", "00"):
        meaning = engine().understand(FLOW.nodes["order_number"], Keys(digits), state)
        assert meaning is not None and meaning.target == "order_lookup" or len(digits) < 3
    lone = engine().step(state, Keys("0"), context(IN_HOURS))
    assert any(isinstance(a, Connect) for a in lone.actions)
    pin = engine().step(at("pin_entry"), Keys("0"), context(OUT_OF_HOURS))
    assert pin.state.node == "callback_offer"


def test_help_says_the_help_line_once_then_listens() -> None:
    turn = engine().step(at("order_number"), Speech("help"), context(IN_HOURS))
    assert turn.said == ["order_number_help"] and turn.state.retries == 0


def test_repeat_says_again_what_mattered_then_the_prompt() -> None:
    state = at("order_result")
    state.collected["heard"] = {"at": "order_result", "say": [["order_shipped", {"number": "5 0 0 1"}]]}
    turn = engine().step(state, Keys("*"), context(IN_HOURS))
    assert turn.said[:2] == ["order_shipped", "anything_else"]
    assert turn.actions[0].values == {"number": "5 0 0 1"}
    elsewhere = engine().step(turn.state, Keys("1"), context(IN_HOURS))  # another order: the status stays behind
    assert elsewhere.state.node == "order_number" and "heard" not in elsewhere.state.collected
