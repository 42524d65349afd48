"""Flow coverage: what calls went through, from their event logs; every node of the IVR's flow is
reached by a scenario in tests/scenarios/ or marked there in untested.yaml, with the reason."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from ivr.flows import build_flow
from ivr.flows.nodes import Choose, Command, Flow, Goto, Handler, Hangup, Menu, Message, NumberEntry, Option, Question
from ivr.simulator.coverage import UNTESTED, MarksError, load_marks, measure, scenario_files
from tests.conftest import PlayedScenarios

SCENARIO_FOLDER = Path(__file__).parent / "scenarios"


def _nowhere(_state: Any, _context: Any) -> Goto:
    raise AssertionError("coverage never runs a handler")


FLOW = Flow(
    nodes={
        "hello": Message("hello", prompt="hello", goto="menu"),
        "menu": Menu("menu", prompt="menu", options=(Option("1", "orders", "order_number"), Option("2", "help", "pick")),
                     question=Question("asked", "pick")),
        "order_number": NumberEntry("order_number", prompt="n", store_as="n", goto="lookup"),
        "lookup": Handler("lookup", run=_nowhere, exits={"found": "the order exists", "order_number": "no such order"}),
        "found": Hangup("found", prompt="status"),
        "pick": Choose("pick", prompt="p", choices_from="c", store_as="x", goto="found", announce="a",
                       also=(Option("", "none_of_these", "menu"),)),
        "locked": Message("locked", prompt="locked", goto="found"),
    },
    start="hello",
    main_menu="menu",
    on_failures="found",
    commands=(Command("main_menu", key="9", goto="menu"), Command("repeat", key="*")),
)  # fmt: skip


def event(node: str, kind: str, matched: str, *path: str) -> dict[str, Any]:
    """A step's event as ivr/calls.py writes it (the fields coverage reads)."""
    return {"node": node, "input_kind": kind, "matched": matched, "next_node": path[-1], "path": list(path)}


# A call: greeted, presses 1, types an order number that exists.
CALL = [
    event("start", "start", "", "hello", "menu"),
    event("menu", "dtmf", "orders", "order_number"),
    event("order_number", "dtmf", "5001", "lookup", "found"),
]


def test_what_a_call_went_through_is_reached() -> None:
    found = measure(FLOW, CALL, calls=1)
    assert [str(i) for i in found.unreached("node")] == ["node pick", "node locked"]
    assert [str(i) for i in found.unreached("option")] == [
        "option menu / help", "option menu / own words", "option pick / choice", "option pick / none_of_these"
    ]  # fmt: skip
    assert [str(i) for i in found.unreached("command")] == ["command main_menu", "command repeat"]


def test_a_node_no_call_reaches_fails_and_is_named() -> None:
    found = measure(FLOW, CALL, calls=1)
    assert not found.ok and [i.node for i in found.failing] == ["pick", "locked"]
    report = found.report().splitlines()
    assert report[:2] == ["coverage of 1 calls:", "  nodes     5/7 reached"]
    assert "node locked: no scenario reaches it" in report
    assert report[-1] == "FAIL 2 nodes neither reached nor marked untested"


def test_a_node_marked_untested_is_no_failure_and_its_reason_is_said() -> None:
    more = [event("menu", "speech", "question", "pick"), event("pick", "dtmf", "refunds", "found")]
    found = measure(FLOW, CALL + more, {"locked": "only a locked account gets here"})
    assert found.ok and found.failing == []
    report = found.report().splitlines()
    assert "  nodes     6/7 reached, 1 marked untested" in report
    assert "untested node locked: only a locked account gets here" in report
    assert "node locked: no scenario reaches it" not in report
    assert report[-1] == "every node is reached or marked untested"
    # A question in the caller's own words, and a choice found for the call, are options reached.
    assert {str(i) for i in found.reached if i.kind == "option"} == {
        "option menu / orders", "option menu / own words", "option pick / choice"
    }  # fmt: skip


def test_a_stale_mark_is_a_warning_and_a_mark_of_nothing_an_error() -> None:
    every_node = CALL + [event("menu", "dtmf", "help", "pick"), event("pick", "dtmf", "x", "locked", "found")]
    found = measure(FLOW, every_node, {"order_number": "typed numbers are hard", "gone_node": "was removed"})
    assert found.stale_marks == ["order_number"] and found.unknown_marks == ["gone_node"]
    assert not found.ok  # a mark of what is not in the flow fails, like a node unreached
    report = found.report().splitlines()
    assert f"warning: {UNTESTED} marks order_number, but a scenario reaches it: remove the mark" in report
    assert f"error: {UNTESTED} marks gone_node, which is not in the flow" in report
    assert report[-1] == f"FAIL {UNTESTED} marks what is not in the flow"
    assert measure(FLOW, every_node, {"order_number": "typed numbers are hard"}).ok  # stale alone: a warning


def test_a_handler_exit_never_taken_is_reported_but_does_not_fail() -> None:
    found = measure(FLOW, CALL)
    assert [str(i) for i in found.unreached("exit")] == ["exit lookup -> order_number (no such order)"]
    assert "exit lookup -> order_number (no such order): no scenario takes it" in found.report().splitlines()
    assert "  exits     1/2 reached" in found.report().splitlines()
    # An exit can be marked untested too, as "handler -> target".
    marked = measure(FLOW, CALL, {"lookup -> order_number": "every demo order exists"})
    assert "untested exit lookup -> order_number (no such order): every demo order exists" in marked.report()


def test_silence_and_commands_are_not_options_and_commands_count_anywhere() -> None:
    calls = CALL[:1] + [
        event("menu", "none", "no_input", "menu"),
        event("menu", "dtmf", "repeat", "menu"),
        event("menu", "speech", "main_menu", "menu"),
    ]
    found = measure(FLOW, calls)
    assert not [i for i in found.reached if i.kind == "option"]
    assert {i.name for i in found.reached if i.kind == "command"} == {"repeat", "main_menu"}


def test_untested_yaml(tmp_path: Path) -> None:
    marks = tmp_path / UNTESTED
    assert load_marks(marks) == {}  # no file, no marks
    marks.write_text('locked: only a locked\n  account gets here\n"lookup->order_number": every order exists\n')
    assert load_marks(marks) == {"locked": "only a locked account gets here",
                                 "lookup -> order_number": "every order exists"}  # fmt: skip
    for wrong in ("- locked\n", "locked:\n", "locked: ''\n", "'': why\n", "locked: [a]\n", "locked: 'a\n"):
        marks.write_text(wrong)
        with pytest.raises(MarksError, match=UNTESTED):
            load_marks(marks)


def test_a_folder_is_its_scenarios_and_untested_yaml_is_not_one(tmp_path: Path) -> None:
    for name in ("b.yaml", "a.yaml", UNTESTED, "notes.txt"):
        (tmp_path / name).write_text("")
    assert scenario_files([tmp_path]) == [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    assert scenario_files([tmp_path / UNTESTED, tmp_path / "b.yaml"]) == [tmp_path / "b.yaml"]


# ---- the IVR's own flow and scenarios ------------------------------------------------------------


def test_every_node_of_the_flow_is_reached_by_a_scenario_or_marked(played_scenarios: PlayedScenarios) -> None:
    """`make test` fails when a node is neither reached nor marked in tests/scenarios/untested.yaml,
    and when a mark there has gone stale (a scenario reaches what it marks) or names nothing."""
    started = time.perf_counter()
    scenarios = scenario_files([SCENARIO_FOLDER])
    played = [played_scenarios[path] for path in scenarios]  # played once per session, shared with test_scenarios
    failed = [p.outcome.report() for p in played if not p.outcome.ok]
    assert not failed, failed[0]
    found = measure(
        build_flow(),
        [e for p in played for e in p.events],
        load_marks(SCENARIO_FOLDER / UNTESTED),
        sum(p.calls for p in played),
    )
    print(f"{found.report()}\n({len(scenarios)} scenarios; {time.perf_counter() - started:.1f} s here)")
    assert found.ok, found.report()
    assert not found.stale_marks, found.report()


def test_simulate_coverage_reports_and_fails_on_a_node_unreached(app: Flask, tmp_path: Path) -> None:
    for name in ("order_status_keypad.yaml", "help_once.yaml"):
        (tmp_path / name).write_text((SCENARIO_FOLDER / name).read_text())
    (tmp_path / UNTESTED).write_text("faq_pick: a made-up reason\nno_such_node: gone\n")
    result = app.test_cli_runner().invoke(args=["simulate", "--coverage", str(tmp_path)])
    lines = result.output.splitlines()
    assert result.exit_code == 1, result.output
    assert lines[:2] == [f"PASS {tmp_path / 'help_once.yaml'} (9 steps)", f"PASS {tmp_path / 'order_status_keypad.yaml'} (14 steps)"]  # fmt: skip
    assert "node account_menu: no scenario reaches it" in lines
    assert "untested node faq_pick: a made-up reason" in lines
    assert f"error: {UNTESTED} marks no_such_node, which is not in the flow" in lines
    assert lines[-1].startswith("FAIL ") and lines[-1].endswith(" nodes neither reached nor marked untested")
    # Played on copies of the demo database: the app's own has no call of them.
    from ivr.models import Call

    with app.extensions["ivr.db"].transaction() as session:
        assert session.query(Call).count() == 0


def test_simulate_coverage_needs_the_in_process_app(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["simulate", "--coverage", "--url", "http://127.0.0.1:9", str(SCENARIO_FOLDER / "help_once.yaml")]
    )
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "FAIL --coverage needs the in-process app, whose calls' event logs it reads: leave out --url"
    ]
