"""The engine on its own: a small flow with every node type, no Flask, no XML."""

from __future__ import annotations

import pytest

from ivr.flows.actions import Connect, HangUp, Listen, RecordMessage, Say
from ivr.flows.engine import Engine
from ivr.flows.inputs import DialOutcome, Keys, NoInput, Recording, Start
from ivr.flows.nodes import Command, Flow, Goto, Handler, Hangup, Menu, Message, Option, Record, Transfer, transitions
from ivr.flows.state import CallState
from ivr.prompts import Catalog, Language
from ivr.voice.twiml import render

PROMPTS = {p: p for p in ("hello", "menu", "menu.person", "menu.message", "connecting", "after_dial", "beep", "thanks",
                          "bye", "no_input", "no_match", "no_input_again", "no_match_again", "apology", "help")}  # fmt: skip
PHRASES = {"person": ["person"], "message": ["message"], "repeat": ["repeat"], "main_menu": ["main menu"],
           "help": ["help"]}  # fmt: skip
CATALOG = Catalog({"en-US": Language(PROMPTS, PHRASES)})


def choose(state: CallState, _context: object) -> Goto:
    busy = state.collected.get("transfer_status") != "completed"
    return Goto("menu" if busy else "bye", say=(Say("after_dial"),))


FLOW = Flow(
    nodes={
        "hello": Message("hello", prompt="hello", goto="menu"),
        "menu": Menu("menu", prompt="menu", options=(Option("0", "person", "transfer"), Option("1", "message", "record")),
                     help="help"),
        "transfer": Transfer("transfer", prompt="connecting", number_setting="AGENTS_NUMBER", after="after_transfer"),
        "after_transfer": Handler("after_transfer", run=choose, exits={"menu": "busy", "bye": "answered"}),
        "record": Record("record", prompt="beep", after="thanks", empty="menu"),
        "thanks": Message("thanks", prompt="thanks", goto="bye"),
        "bye": Hangup("bye", prompt="bye"),
    },
    start="hello",
    main_menu="menu",
    on_failures="bye",
    commands=(Command("repeat", key="*"), Command("main_menu", key="9", goto="menu"), Command("help")),
)  # fmt: skip


@pytest.fixture
def engine() -> Engine:
    return Engine(FLOW, CATALOG, {"AGENTS_NUMBER": "+15550109999", "MAX_RETRIES": 3})


def test_start_plays_through_messages_to_the_first_prompt(engine: Engine) -> None:
    turn = engine.step(CallState(node="start"), Start())
    assert turn.actions == [Say("hello"), Say("menu"), Say("menu.person"), Say("menu.message"),
                            Listen("menu", num_digits=1, hints=("person", "message", "repeat", "main menu", "help"))]  # fmt: skip
    assert turn.state.node == "menu" and turn.state.step == 1


def test_transfer_busy_comes_back_to_the_menu(engine: Engine) -> None:
    state = engine.step(CallState(node="start"), Start()).state
    turn = engine.step(state, Keys("0"))
    assert turn.actions[-1] == Connect("+15550109999", "transfer", 20)
    turn = engine.step(turn.state, DialOutcome("busy"))
    assert turn.actions[0] == Say("after_dial") and turn.state.node == "menu"
    assert turn.state.collected["transfer_status"] == "busy"
    # What the step went through: the handler, its exit, the menu it waits at.
    assert turn.path == ["after_transfer", "menu"] and turn.exits == [("after_transfer", "menu")]


def test_a_turn_names_the_nodes_it_went_through(engine: Engine) -> None:
    turn = engine.step(CallState(node="start"), Start())
    assert turn.path == ["hello", "menu"] and turn.exits == []
    turn = engine.step(turn.state, Keys("7"))  # no such option: back at the same prompt
    assert turn.path == ["menu"]
    turn = engine.step(engine.step(turn.state, Keys("1")).state, Recording("https://api.twilio.com/r/RE1", "RE1", 12))
    assert turn.path == ["thanks", "bye"]


def test_record_keeps_the_recording(engine: Engine) -> None:
    state = engine.step(CallState(node="start"), Start()).state
    turn = engine.step(state, Keys("1"))
    assert turn.actions[-1] == RecordMessage("record", 120, 5, status_callback=True)
    turn = engine.step(turn.state, Recording("https://api.twilio.com/r/RE1", "RE1", 12))
    assert turn.actions == [Say("thanks"), Say("bye"), HangUp()]
    assert turn.state.collected["recording"]["seconds"] == 12


def test_three_failures_end_politely_and_help_is_offered(engine: Engine) -> None:
    state = engine.step(CallState(node="start"), Start()).state
    first = engine.step(state, NoInput())
    assert first.actions[:2] == [Say("no_input"), Say("menu")] and first.state.retries == 1
    second = engine.step(first.state, Keys("7"))
    # The second miss: the help line, and no menu read out again after it.
    assert second.actions[:2] == [Say("no_match_again"), Say("help")] and second.state.retries == 2
    assert len(second.actions) == 3 and isinstance(second.actions[2], Listen)
    third = engine.step(second.state, NoInput())
    assert third.actions == [Say("bye"), HangUp()] and third.state.node == "bye"
    assert third.state.outcome == "gave_up"


def test_repeat_does_not_count_as_a_failure(engine: Engine) -> None:
    state = engine.step(CallState(node="start"), Start()).state
    failed = engine.step(state, NoInput()).state
    repeated = engine.step(failed, Keys("*"))
    assert repeated.state.retries == 1 and repeated.actions[0] == Say("menu")


def test_every_transition_is_declared() -> None:
    assert ("", "after_transfer") in transitions(FLOW.nodes["transfer"])


def test_transfer_and_record_render_as_twiml(engine: Engine) -> None:
    actions = [Say("connecting"), Connect("+15550109999", "transfer", 20)]
    xml = render(
        actions,
        lambda node: f"/voice/step/{node}?n=4",
        lambda say: say.prompt.upper(),
        {"VOICE": "", "LANGUAGE": "en-US"},
    )
    assert xml == ('<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-US">CONNECTING</Say>'
                   '<Dial action="/voice/step/transfer?n=4" method="POST" timeout="20"><Number>+15550109999</Number>'
                   "</Dial></Response>")  # fmt: skip
    xml = render([RecordMessage("record", 120, 5)], lambda node: f"/s/{node}", str, {"LANGUAGE": "en-US"})
    assert xml == ('<?xml version="1.0" encoding="UTF-8"?><Response><Record action="/s/record" finishOnKey="#" '
                   'maxLength="120" method="POST" playBeep="true" timeout="5" />'
                   '<Redirect method="POST">/s/record</Redirect></Response>')  # fmt: skip
    xml = render([RecordMessage("record", 60, 3, status_callback=True)], lambda node: f"/s/{node}", str,
                 {"LANGUAGE": "en-US"}, recording_callback="/voice/recording")  # fmt: skip
    assert (
        'recordingStatusCallback="/voice/recording" recordingStatusCallbackEvent="completed absent" '
        'recordingStatusCallbackMethod="POST"'
    ) in xml
