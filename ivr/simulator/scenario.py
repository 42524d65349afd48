"""Scenario files: a caller's whole call as YAML steps, with what they must hear on the way.

caller: "+15550100001"
steps:
  - hear: "order (number|status)"   # regex, in all heard since the previous caller action
  - press: "2"
  - say: "check on my order"        # confidence: 0.4 may sit beside it
  - silence: true
  - hangup: true
  - record: message.wav              # then_hangup: true, fail_downloads: 2, callbacks: 5 may sit beside it
  - press: "#"                       # at a recording, before speaking: nothing recorded (Twilio's empty recording)
  - answer: busy                     # how a transfer ends: completed, busy, no-answer or failed
  - new_call: {caller: "+15550100001", clock: "2026-11-25T09:00:00-05:00"}   # hang up, call again
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ivr.simulator.phone import DEFAULT_CALLED, DEFAULT_CALLER, DIAL_OUTCOMES, SimulatedCall
from ivr.simulator.transport import Transport

ACTIONS = ("press", "say", "say_audio", "silence", "record", "answer", "hangup", "new_call")
NEW_CALL_KEYS = {"caller", "clock"}
STEP_KEYS = {"hear", *ACTIONS}
STEP_ORDER = ("hear", *ACTIONS)  # as a message lists them
STEP_OPTIONS = {"say": {"confidence"}, "record": {"then_hangup", "fail_downloads", "callbacks"}}
TOP_KEYS = {"caller", "called", "steps", "name", "description", "clock", "settings", "language"}


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
    # Settings of the app the call is played on (IVR_ names without the prefix), for a line that is
    # not the default one: several languages, a number that gives one (in-process only).
    settings: dict[str, str] = field(default_factory=dict)
    # The language the caller answers the line's language question with (by its name), in every call.
    language: str | None = None

    def app_settings(self) -> dict[str, Any]:
        """The scenario's settings as the app takes them (numbers as numbers, yes/no as booleans). The
        survey is asked of a share of calls chosen by their random CallSid: a scenario hears it only
        when it says so (SURVEY_SHARE: 100), so that every play of it is the same."""
        from ivr.config import DEFAULTS, _coerce

        return {
            "SURVEY_SHARE": 0,
            **{name: _coerce(name, value, DEFAULTS[name]) for name, value in self.settings.items()},
        }


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
    """Read and check a scenario file: every mistake in it is a ScenarioError of one line naming the
    file and the step, found here before any call is made."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a text file (UTF-8 YAML)") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the scenario: {exc.strerror or exc}") from None
    data, lines = _parse(path, text)
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a scenario is a mapping with a list of steps (steps:), not {_kind(data)}")
    unknown_top = set(data) - TOP_KEYS
    if unknown_top:
        raise ScenarioError(f"{path}: unknown key {_names(unknown_top)} (a scenario has {', '.join(sorted(TOP_KEYS))})")
    if not isinstance(data.get("steps"), list) or not data["steps"]:
        raise ScenarioError(f"{path}: a scenario needs a list of steps")
    for key in ("caller", "called", "name", "description", "language"):
        if key in data:
            _text(f"{path}", key, data[key])
    clock = _clock_value(data.get("clock"), f"{path}")
    settings = _settings(data.get("settings", {}), f"{path}")
    for number, step in enumerate(data["steps"], 1):
        line = lines[number - 1] if number <= len(lines) else 0
        _check_step(f"{path}: step {number}" + (f" (line {line})" if line else ""), step, path.parent)
    return Scenario(
        path=path,
        caller=str(data.get("caller", DEFAULT_CALLER)),
        called=str(data.get("called", DEFAULT_CALLED)),
        steps=data["steps"],
        name=str(data.get("name", path.stem)),
        clock=clock,
        settings=settings,
        language=str(data["language"]) if "language" in data else None,
    )


def _parse(path: Path, text: str) -> tuple[Any, list[int]]:
    """The YAML's data, and the line each step starts on; a duplicated key in a step is an error
    (YAML would keep the last one silently)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ScenarioError(f"{path}: {where}invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: invalid YAML: {' '.join(str(exc).split())}") from None
    finally:
        loader.dispose()
    lines: list[int] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == "steps" and isinstance(value, yaml.SequenceNode):
                lines = [item.start_mark.line + 1 for item in value.value]
                for number, item in enumerate(value.value, 1):
                    names = [k.value for k, _ in item.value] if isinstance(item, yaml.MappingNode) else []
                    twice = next((name for name in names if names.count(name) > 1), None)
                    if twice is not None:
                        raise ScenarioError(
                            f"{path}: step {number} (line {item.start_mark.line + 1}): {twice} appears twice; "
                            "one action per step"
                        )
    return data, lines


def _check_step(where: str, step: Any, base: Path) -> None:
    if not isinstance(step, dict):
        raise ScenarioError(f'{where}: a step is a mapping like press: "2", not {_kind(step)}')
    kinds = [key for key in step if key in STEP_KEYS]
    if not kinds:
        raise ScenarioError(f"{where}: unknown step {_names(step)} (a step is one of {', '.join(STEP_ORDER)})")
    if len(kinds) > 1:
        raise ScenarioError(f"{where}: one action per step, found {' and '.join(kinds)}: give each its own step")
    kind, value = kinds[0], step[kinds[0]]
    options = STEP_OPTIONS.get(kind, set())
    extra = set(step) - {kind} - options
    if extra:
        takes = f"{kind} takes {', '.join(sorted(options))}" if options else f"{kind} takes no options"
        raise ScenarioError(f"{where}: unknown key {_names(extra)} beside {kind} ({takes})")
    if kind == "hear":
        pattern = _text(where, kind, value)
        try:
            re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise ScenarioError(f"{where}: hear: bad regex {json.dumps(pattern)}: {exc}") from None
    elif kind == "press":
        # Any text: a scenario may send the app Digits no keypad has, to see it cope.
        _text(where, kind, value)
    elif kind == "say":
        _text(where, kind, value)
        confidence = step.get("confidence", 0.92)
        if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
            raise ScenarioError(f"{where}: confidence: a number from 0 to 1, not {confidence!r}")
    elif kind in ("say_audio", "record"):
        clip = base / _text(where, kind, value)
        if not clip.is_file():
            raise ScenarioError(f"{where}: {kind}: no such file {clip}")
        if kind == "record":
            with clip.open("rb") as audio:
                header = audio.read(12)
            if header[:4] != b"RIFF" or header[8:12] != b"WAVE":
                raise ScenarioError(f"{where}: record: {clip} is not a WAV file")
            _number(where, step, "fail_downloads", 0, 0)
            _number(where, step, "callbacks", 1, 1)
            if not isinstance(step.get("then_hangup", False), bool):
                raise ScenarioError(f"{where}: then_hangup: true or false, not {step['then_hangup']!r}")
    elif kind in ("silence", "hangup"):
        if value is not True:
            raise ScenarioError(f"{where}: write {kind}: true, not {kind}: {json.dumps(value)}")
    elif kind == "answer":
        outcome = _text(where, kind, value)
        if outcome not in DIAL_OUTCOMES:
            raise ScenarioError(
                f"{where}: answer: {json.dumps(outcome)} is no way a transfer ends: one of {', '.join(DIAL_OUTCOMES)}"
            )
    elif kind == "new_call":
        if value is True:
            step["new_call"] = value = {}
        if not isinstance(value, dict) or set(value) - NEW_CALL_KEYS:
            raise ScenarioError(f"{where}: new_call takes true or a mapping of caller and clock")
        if "caller" in value:
            _text(where, "caller", value["caller"])
        _clock_value(value.get("clock"), where)


def _text(where: str, key: str, value: Any) -> str:
    """A step's text. A number is refused rather than turned into text: YAML has already read an
    unquoted 0123 as 83 and +15550100001 as 15550100001, so the keys or number meant are lost."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ScenarioError(f'{where}: {key}: write it in quotes, {key}: "...": YAML read it as the number {value!r}')
    raise ScenarioError(f"{where}: {key}: needs text, not {_kind(value)}")


def _number(where: str, step: dict[str, Any], key: str, default: int, least: int) -> None:
    value = step.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ScenarioError(f"{where}: {key}: a whole number from {least}, not {value!r}")


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{type(value).__name__} {value!r}"


def _names(keys: Any) -> str:
    return ", ".join(repr(str(key)) for key in sorted(keys, key=str))


def _settings(value: Any, where: str) -> dict[str, str]:
    """`settings: {LANGUAGES: "lv-LV,fi-FI,en-US"}`: names the app knows, each a text, number or yes/no."""
    from ivr.config import DEFAULTS, _coerce
    from ivr.errors import ConfigError

    if not isinstance(value, dict):
        raise ScenarioError(f"{where}: settings: is a mapping of IVR settings, like LANGUAGES: lv-LV,en-US")
    for name, setting in value.items():
        if name not in DEFAULTS or name in ("DATABASE_URL", "DATA_DIR", "TWILIO_AUTH_TOKEN"):
            raise ScenarioError(f"{where}: settings: {name!r} is not a setting a scenario may give (IVR_{name})")
        if not isinstance(setting, str | int | bool):
            raise ScenarioError(f"{where}: settings: {name} must be a text, a number or true/false")
        try:
            _coerce(name, str(setting).lower() if isinstance(setting, bool) else str(setting), DEFAULTS[name])
        except ConfigError as exc:
            raise ScenarioError(f"{where}: settings: {exc}") from None
    return {
        str(name): str(setting).lower() if isinstance(setting, bool) else str(setting)
        for name, setting in value.items()
    }


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
    if scenario.settings and (app is None or any(app.config.get(k) != v for k, v in scenario.app_settings().items())):
        failure = {"step": 0, "text": "settings", "heard": "",
                   "message": f"settings: play it in-process (make test, simulate without --url) or start the server with"
                              f" {' '.join(f'IVR_{k}={v}' for k, v in scenario.settings.items())}"}  # fmt: skip
        return Outcome(scenario, False, [failure])
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
        if scenario.language:
            call.choose_language(scenario.language)
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
                if scenario.language:
                    call.choose_language(scenario.language)
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
