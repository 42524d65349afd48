"""`flask --app wsgi simulate [SCENARIO|FOLDER...] [--json] [--url URL] [--coverage]`: play calls, or
talk to the IVR."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from ivr.cli.checks import refuse_broken_flow
from ivr.config import DEFAULTS
from ivr.languages import CODE
from ivr.simulator import media
from ivr.simulator.coverage import MarksError, marks_beside, measure, scenario_files
from ivr.simulator.interactive import help_text, media_note, play_typed
from ivr.simulator.phone import DEFAULT_CALLED, DEFAULT_CALLER, CallError, SimulatedCall
from ivr.simulator.scenario import Scenario, ScenarioError, load, run
from ivr.simulator.transport import FlaskTransport, HttpTransport, Transport


def _transport(url: str | None) -> Transport:
    token = current_app.config["TWILIO_AUTH_TOKEN"]
    if url:
        return HttpTransport(url, token, current_app.config.get("PUBLIC_URL") or None)
    return FlaskTransport(current_app._get_current_object(), token)  # type: ignore[attr-defined]


def _echo(who: str, text: str) -> None:
    click.echo(f"  {who}: {text}" if who == "IVR" else f"  {who} {text}")


@click.command("simulate")
@click.argument("scenarios", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable trace.")
@click.option("--url", help="Play against a running server, e.g. http://127.0.0.1:5000.")
@click.option("--caller", default=None, help="Caller ID (From) for an interactive call.")
@click.option(
    "--language",
    default=None,
    metavar="CODE",
    help="Call in this language (fi-FI, lv-LV...): the line's number for it (IVR_NUMBER_LANGUAGES), or its"
    " name said when the line asks.",
)
@click.option(
    "--coverage",
    is_flag=True,
    help="Then report the nodes, options, handler exits and commands no scenario reached; exit 1 if a node is"
    " neither reached nor marked in untested.yaml beside the scenarios. Each scenario plays on a fresh copy"
    " of the demo database (in-process only).",
)
@with_appcontext
def simulate(
    scenarios: tuple[Path, ...],
    as_json: bool,
    url: str | None,
    caller: str | None,
    language: str | None,
    coverage: bool,
) -> None:
    """Play SCENARIO files (a FOLDER: its *.yaml) as whole calls, or with none, call the IVR and answer
    at each prompt."""
    if url is None:
        refuse_broken_flow()  # in-process calls run this checkout's flow: a broken one is its problem lines
    media.server(media.port_for(current_app.config))  # where the app under test fetches recordings from
    before = media.published()
    if not scenarios and not coverage:
        status = _interactive(_transport(url), caller or DEFAULT_CALLER, language, url is None)
        _deliver_recordings(url, before)
        sys.exit(status)
    files = scenario_files(scenarios)
    if not files:
        shown = " ".join(map(str, scenarios)) or "nothing named"
        click.echo(
            f"FAIL no scenarios in {shown}: name scenario files or a folder of them, e.g. tests/scenarios/", err=True
        )
        sys.exit(2)
    if coverage:
        sys.exit(_coverage(files, url, as_json))
    scenarios_found, failed = _load_all(files)
    for scenario in scenarios_found:
        outcome = run(scenario, _transport(url) if url or not _needs_own_app(scenario) else _line_of(scenario))
        click.echo(outcome.as_json() if as_json else outcome.report())
        failed |= not outcome.ok
    if not as_json:
        _deliver_recordings(url, before)
    sys.exit(1 if failed else 0)


def _needs_own_app(scenario: Scenario) -> bool:
    """Whether the scenario's settings (the survey off, unless it says otherwise) differ from this app's."""
    return any(current_app.config.get(key) != value for key, value in scenario.app_settings().items())


def _line_of(scenario: Scenario) -> Transport:
    """In-process, the app as the scenario's `settings:` make it (on this app's database)."""
    factory = current_app.extensions["ivr.factory"]  # ivr.create_app, which the app holds
    config = {key: value for key, value in current_app.config.items() if key in DEFAULTS}
    return FlaskTransport(factory({**config, **scenario.app_settings()}), current_app.config["TWILIO_AUTH_TOKEN"])


def _load_all(files: list[Path]) -> tuple[list[Scenario], bool]:
    """The scenarios that load, and whether any did not (each such file is one FAIL line, before any call)."""
    found, broken = [], False
    for path in files:
        try:
            found.append(load(path))
        except ScenarioError as exc:
            click.echo(f"FAIL {exc}", err=True)
            broken = True
    return found, broken


def _coverage(files: list[Path], url: str | None, as_json: bool) -> int:
    """Play the scenarios, each on a fresh copy of the demo database, then say what they reached."""
    import json

    from ivr.flows import build_flow
    from ivr.simulator.sandbox import Sandbox

    if url:
        click.echo(
            "FAIL --coverage needs the in-process app, whose calls' event logs it reads: leave out --url", err=True
        )
        return 2
    try:
        marks = marks_beside(files)
    except MarksError as exc:
        click.echo(f"FAIL {exc}", err=True)
        return 1
    events: list[dict] = []
    calls = 0
    scenarios_found, failed = _load_all(files)
    with Sandbox(current_app.config, current_app.extensions["ivr.factory"]) as sandbox:
        for scenario in scenarios_found:
            played = sandbox.play(scenario)
            report = played.outcome.report()
            # A scenario that passes is one line here; one that fails shows its call, as without --coverage.
            click.echo(
                played.outcome.as_json() if as_json else report if not played.outcome.ok else report.splitlines()[-1]
            )
            events += played.events
            calls += played.calls
            failed |= not played.outcome.ok
    found = measure(build_flow(), events, marks, calls)
    click.echo(json.dumps(found.as_dict(), indent=2) if as_json else found.report())
    return 1 if failed or not found.ok else 0


def _deliver_recordings(url: str | None, before: set[str], wait_seconds: float = 30.0) -> None:
    """Recorded clips are served by this process: let them reach the app before it ends.

    In-process, the worker's due jobs run here (copy, transcript). Against a server, this waits
    (a while at most) for the server's worker to fetch every clip.
    """
    import time

    new = media.published() - before
    clips = [clip for sid, clip in media.server().clips.items() if sid in new] if new else []
    if not clips:
        return
    if url is None:
        from ivr.db import get_db
        from ivr.worker import Worker

        worker = Worker(get_db(), current_app.config, catalog=current_app.extensions.get("ivr.catalog"))
        done = sum(worker.run_once() for _ in range(3))
        click.echo(f"worker: {done} jobs done (recordings copied and transcribed; see the agents' queue)")
        return
    deadline = time.monotonic() + wait_seconds
    while any(clip.served <= clip.fail_first for clip in clips) and time.monotonic() < deadline:
        time.sleep(0.2)
    waiting = sum(clip.served <= clip.fail_first for clip in clips)
    if waiting:
        click.echo(f"note: {waiting} recording(s) not fetched by the server's worker within {wait_seconds:.0f} s")


def _number_for(language: str | None, in_process: bool) -> str:
    """The number to call for `language`: the line's own for it, or its usual one."""
    if language is None:
        return DEFAULT_CALLED
    languages = current_app.extensions["ivr.languages"]
    if not CODE.fullmatch(language):
        raise click.ClickException(f"--language takes a code like fi-FI or lv-LV, not {language!r}")
    if in_process and language not in languages.offered:
        raise click.ClickException(
            f"this line speaks {', '.join(languages.offered)}: start it with IVR_LANGUAGES={','.join(languages.offered)},"
            f"{language} to call in {language}"
        )
    return next((number for number, spoken in languages.by_number.items() if spoken == language), DEFAULT_CALLED)


def _interactive(transport: Transport, caller: str, language: str | None = None, in_process: bool = True) -> int:
    click.echo(
        "Type keys (2, 5001#, *), words to say them, a .wav file to speak it, an empty line to stay silent,"
        " 'hangup' to end, '?' for what you can type at the prompt."
    )
    if note := media_note(transport):
        click.echo(note)
    call = SimulatedCall(transport, caller, _number_for(language, in_process), echo=_echo)
    try:
        call.dial()
        if language:
            call.choose_language(language)
        while not call.ended:
            try:
                typed = input(f"you ({call.waiting_for})> ").strip()
            except (EOFError, KeyboardInterrupt):  # end of input, Ctrl-D, Ctrl-C: the caller hangs up
                click.echo()
                typed = "hangup"
            if typed == "?":
                click.echo(help_text(call))
                continue
            try:
                play_typed(call, typed)
            except CallError as exc:
                if call.ended or call.waiting_for is None:
                    raise  # the app broke the call: Twilio would drop the caller
                click.echo(f"  ! {exc}")
    except CallError as exc:
        click.echo(f"FAIL {exc}", err=True)
        return 1
    except OSError as exc:  # the server of --url cannot be reached
        click.echo(f"FAIL the app did not answer: {exc}", err=True)
        return 1
    return 0


def register(app: Flask) -> None:
    app.cli.add_command(simulate)
