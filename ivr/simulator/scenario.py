"""Scenario files: a caller's whole call as YAML steps, with what they must hear on the way.

caller: "+15550100001"
steps:
  - hear: "order (number|status)"   # regex, in all heard since the previous caller action
  - press: "2"
  - say: "check on my order"        # confidence: 0.4 may sit beside it
  - silence: true
  - hangup: true
  - record: message.wav              # then_hangup: true, fail_downloads: 2, callbacks: 5 may sit beside it
  - new_call: {caller: "+15550100001", clock: "2026-11-25T09:00:00-05:00"}   # hang up, call again
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ivr.simulator.phone import DEFAULT_CALLED, DEFAULT_CALLER, SimulatedCall
from ivr.simulator.transport import Transport

ACTIONS = ("press", "say", "say_audio", "silence", "record", "answer", "hangup", "new_call")
NEW_CALL_KEYS = {"caller", "clock"}
STEP_KEYS = {"hear", *ACTIONS}


class ScenarioError(ValueError):
    """The scenario file itself is wrong."""


@dataclass
class Scenario:
    path: Path
    caller: str
    called: str
    steps: list[dict[str, Any]]
    name: str = ""
    # The app's clock for the whole call (ISO 8601), so tests of opening hours are deterministic.
    clock: str | None = None


@dataclass
class Outcome:
    scenario: Scenario
    ok: bool
    failures: list[dict[str, Any]] = field(default_factory=list)
    trace: list[dict] = field(default_factory=list)
    transcript: list[tuple[str, str]] = field(default_factory=list)

    def report(self) -> str:
        lines = [f"  {who}: {text}" if who == "IVR" else f"  {who} {text}" for who, text in self.transcript]
        if self.ok:
            lines.append(f"PASS {self.scenario.path} ({len(self.scenario.steps)} steps)")
        else:
            failure = self.failures[0]
            lines.append(f"FAIL {self.scenario.path} step {failure['step']} ({failure['text']}): {failure['message']}")
        return "\n".join(lines)

    def as_json(self) -> str:
        return json.dumps(
            {"scenario": str(self.scenario.path), "ok": self.ok, "failures": self.failures, "trace": self.trace},
            indent=2,
        )


def load(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: cannot read the scenario: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list) or not data["steps"]:
        raise ScenarioError(f"{path}: a scenario needs a list of steps")
    unknown_top = set(data) - {"caller", "called", "steps", "name", "description", "clock"}
    if unknown_top:
        raise ScenarioError(f"{path}: unknown keys {sorted(unknown_top)}")
    clock = _clock_value(data.get("clock"), f"{path}")
    for number, step in enumerate(data["steps"], 1):
        if not isinstance(step, dict):
            raise ScenarioError(f"{path} step {number}: expected a mapping like 'press: \"2\"', got {step!r}")
        kinds = STEP_KEYS & set(step)
        allowed = {"say": {"confidence"}, "record": {"then_hangup", "fail_downloads", "callbacks"}}
        extra = set(step) - STEP_KEYS - next((v for k, v in allowed.items() if k in step), set())
        if len(kinds) != 1 or extra:
            raise ScenarioError(f"{path} step {number}: {step!r} must have exactly one of {sorted(STEP_KEYS)}")
        if "new_call" in step:
            again = step["new_call"]
            if again is True:
                step["new_call"] = again = {}
            if not isinstance(again, dict) or set(again) - NEW_CALL_KEYS:
                raise ScenarioError(f"{path} step {number}: new_call takes true or a mapping of caller and clock")
            _clock_value(again.get("clock"), f"{path} step {number}")
    return Scenario(
        path=path,
        caller=str(data.get("caller", DEFAULT_CALLER)),
        called=str(data.get("called", DEFAULT_CALLED)),
        steps=data["steps"],
        name=str(data.get("name", path.stem)),
        clock=clock,
    )


def _clock_value(value: Any, where: str) -> str | None:
    if not value:
        return None
    try:
        dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise ScenarioError(f"{where}: clock must be a date and time like 2026-12-24T21:30:00+02:00") from None
    return str(value)


def describe(step: dict[str, Any]) -> str:
    kind = next(k for k in step if k in STEP_KEYS)
    return f"{kind}: {json.dumps(step[kind])}"


def play_step(call: SimulatedCall, step: dict[str, Any], base: Path) -> None:
    """One scenario step on a call (also what interactive mode does with typed input)."""
    if "hear" in step:
        call.hears(str(step["hear"]))
    elif "press" in step:
        call.press(str(step["press"]))
    elif "say" in step:
        call.say(str(step["say"]), float(step.get("confidence", 0.92)))
    elif "say_audio" in step:
        call.say_audio(base / str(step["say_audio"]))
    elif "silence" in step:
        call.silence()
    elif "record" in step:
        call.record(
            base / str(step["record"]),
            bool(step.get("then_hangup")),
            int(step.get("fail_downloads", 0)),
            int(step.get("callbacks", 1)),
        )
    elif "answer" in step:
        call.answer(str(step["answer"]))
    elif "hangup" in step:
        call.hangup()


def run(scenario: Scenario, transport: Transport, echo=None) -> Outcome:  # type: ignore[no-untyped-def]
    app = getattr(transport, "app", None)
    clocks = [scenario.clock] + [s["new_call"].get("clock") for s in scenario.steps if "new_call" in s]
    fixed = next((c for c in clocks if c), None)
    if fixed and app is None:
        failure = {"step": 0, "text": "clock", "heard": "",
                   "message": "clock: fixes the clock of an in-process app only; start the server with "
                              f"IVR_CLOCK={fixed} to play this scenario over HTTP"}  # fmt: skip
        return Outcome(scenario, False, [failure])
    with _clock_kept(app):
        _set_clock(app, scenario.clock)
        return _play(scenario, transport, echo)


@contextmanager
def _clock_kept(app) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The app's IVR_CLOCK setting as it was before the scenario, whatever the scenario set."""
    before = app.config.get("CLOCK", "") if app is not None else None
    try:
        yield
    finally:
        if app is not None:
            app.config["CLOCK"] = before


def _set_clock(app, clock: str | None) -> None:  # type: ignore[no-untyped-def]
    if clock:
        app.config["CLOCK"] = clock


def _play(scenario: Scenario, transport: Transport, echo=None) -> Outcome:  # type: ignore[no-untyped-def]
    """Each call of the scenario in turn: the first one, and one more per new_call step."""
    call = SimulatedCall(transport, scenario.caller, scenario.called, echo=echo)
    failures: list[dict[str, Any]] = []
    trace: list[dict] = []
    transcript: list[tuple[str, str]] = []
    number = 0  # the step being played, for the failure message
    try:
        call.dial()
        for step in scenario.steps:
            number += 1
            if "new_call" in step:
                call.hangup()
                trace += call.trace
                transcript += call.transcript
                _set_clock(getattr(transport, "app", None), step["new_call"].get("clock"))
                caller = str(step["new_call"].get("caller", call.caller))
                call = SimulatedCall(transport, caller, scenario.called, echo=echo)
                call.dial()
                continue
            play_step(call, step, scenario.path.parent)
        call.hangup()  # a scenario that ends while the call waits: the caller hangs up
    except (AssertionError, OSError) as exc:
        failures.append(
            {
                "step": number,
                "text": describe(scenario.steps[number - 1]) if number else "dial",
                "message": str(exc),
                "heard": call.heard,
            }
        )
    return Outcome(scenario, not failures, failures, trace + call.trace, transcript + call.transcript)
