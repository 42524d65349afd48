"""The simulator explains itself: '#' at a recording as Twilio does, only Twilio's transfer outcomes,
'?' at every prompt, one clear line for every mistake in a scenario file or typed at a prompt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from ivr.db import get_db
from ivr.models import Message
from ivr.simulator.phone import CallError
from ivr.simulator.scenario import ScenarioError, load, run
from ivr.simulator.transport import FlaskTransport
from tests.conftest import TOKEN
from tests.helpers import call_on, write_clip

MESSAGES = Path(__file__).parent / "fixtures" / "messages"
OUT_OF_HOURS = "2026-11-24T21:00:00-05:00"  # a Tuesday evening: a person is offered a message
IN_HOURS = "2026-11-24T10:00:00-05:00"

RECORD = (
    '<Response><Record action="/saved" finishOnKey="#" recordingStatusCallback="/rec"'
    ' recordingStatusCallbackEvent="completed absent"/><Say>Nothing recorded</Say></Response>'
)


# ---- '#' at a recording: Twilio's empty recording ------------------------------------------


def test_the_finish_key_before_speaking_records_nothing_and_goes_on_with_the_next_verb() -> None:
    call, received = call_on({"/voice/incoming": RECORD})
    call.press("#")
    paths = [path for path, _ in received]
    # Twilio: an empty recording makes no request to the action URL; the next verb runs.
    assert "/saved" not in paths
    assert received[1] == ("/rec", {**received[1][1], "RecordingStatus": "absent"})
    assert call.hears("Nothing recorded") and call.ended


def test_a_key_that_does_not_end_the_recording_is_refused_and_the_recording_waits() -> None:
    call, received = call_on({"/voice/incoming": RECORD})
    with pytest.raises(CallError, match=r"pressing '5' does not end this recording \(its finishOnKey is '#'\)"):
        call.press("5")
    assert call.waiting_for == "record" and len(received) == 1


def test_without_a_finish_on_key_any_key_ends_the_recording() -> None:
    call, received = call_on({"/voice/incoming": '<Response><Record action="/saved"/><Say>Again</Say></Response>'})
    call.press("7")
    assert call.hears("Again") and "/saved" not in [path for path, _ in received]


def test_silence_at_a_recording_is_an_empty_recording_too() -> None:
    call, received = call_on({"/voice/incoming": RECORD})
    call.silence()
    assert [path for path, _ in received][:2] == ["/voice/incoming", "/rec"]
    assert received[1][1]["RecordingStatus"] == "absent" and call.hears("Nothing recorded")


def test_a_clip_that_is_missing_or_no_wav_is_one_clear_error_and_the_recording_waits(tmp_path: Path) -> None:
    call, _ = call_on({"/voice/incoming": RECORD})
    with pytest.raises(CallError, match=r"nope\.wav: no such file"):
        call.record(tmp_path / "nope.wav")
    (tmp_path / "text.wav").write_text("not audio")
    with pytest.raises(CallError, match=r"text\.wav is not a WAV file"):
        call.record(tmp_path / "text.wav")
    assert call.waiting_for == "record"
    call.record(write_clip(tmp_path / "m.wav", 2))
    assert call.ended


def test_pound_at_the_message_prompt_leaves_no_message_and_offers_another_try(app: Flask, tmp_path: Path) -> None:
    scenario = tmp_path / "pound.yaml"
    scenario.write_text(
        f'clock: "{OUT_OF_HOURS}"\nsteps:\n  - press: "0"\n  - press: "1"\n  - hear: "after the beep"\n'
        '  - press: "#"\n  - hear: "Sorry, I didn\'t hear a message"\n  - hear: "To record your message again, press 1"\n'
        '  - press: "1"\n  - hear: "after the beep"\n'
    )
    outcome = run(load(scenario), FlaskTransport(app, TOKEN))
    assert outcome.ok, outcome.report()
    assert "caller presses # before saying anything: nothing is recorded" in outcome.report()
    with app.app_context(), get_db().reading() as session:
        assert list(session.scalars(select(Message))) == []  # nothing in the agents' queue
    assert not any("RecordingUrl" in turn["params"] for turn in outcome.trace)


# ---- transfers: Twilio's DialCallStatus only -------------------------------------------------


def test_a_transfer_takes_only_twilios_outcomes() -> None:
    call, received = call_on(
        {"/voice/incoming": '<Response><Dial action="/after"><Number>+15550000000</Number></Dial></Response>'}
    )
    with pytest.raises(CallError, match="'hello\\?' is no way a transfer ends: .*completed, busy, no-answer, failed"):
        call.answer("hello?")
    assert call.waiting_for == "dial" and len(received) == 1
    call.answer("no-answer")
    assert received[1][1]["DialCallStatus"] == "no-answer"


# ---- interactive mode -------------------------------------------------------------------------


def interactive(app: Flask, clock: str, typed: str) -> str:
    app.config["CLOCK"] = clock
    result = app.test_cli_runner().invoke(args=["simulate"], input=typed)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


def test_interactive_question_mark_lists_what_each_prompt_takes(app: Flask) -> None:
    output = interactive(app, OUT_OF_HOURS, "?\n0\n1\n?\nhangup\n")
    gather, record = output.split("? the IVR is listening")[1], output.split("? the IVR is recording")[1]
    for line in ("keys ", "words ", "a .wav file ", "empty line ", "hangup ", "? "):
        assert line in gather.split("caller presses 0")[0]
    assert "it listens for: " in gather and "it goes on after 1 key" in gather
    assert "a .wav file  record that clip" in record
    assert "#            end the recording before saying anything: nothing is recorded" in record
    assert "empty line   stay silent" in record


def test_interactive_question_mark_reads_a_number_hint_as_a_person_would(app: Flask) -> None:
    output = interactive(app, IN_HOURS, "2\n?\nhangup\n")
    listening = output.split("? the IVR is listening")[1]
    assert "it goes on after 4 keys or at #" in listening
    assert "a number said digit by digit" in listening and "$OOV_CLASS" not in listening


def test_interactive_says_when_the_app_would_refuse_recorded_clips(app: Flask) -> None:
    assert "note: IVR_TWILIO_MEDIA_HOSTS" not in interactive(app, IN_HOURS, "hangup\n")
    app.config["TWILIO_MEDIA_HOSTS"] = ""  # an .env from before `make` wrote that line
    note = interactive(app, IN_HOURS, "hangup\n")
    assert "note: IVR_TWILIO_MEDIA_HOSTS does not list the simulator's media server (127.0.0.1:" in note
    assert "set IVR_TWILIO_MEDIA_HOSTS=127.0.0.1:5077 in .env" in note
    app.config["TWILIO_MEDIA_HOSTS"] = "127.0.0.1:1"  # another port only: the clips would be refused too
    assert "note: IVR_TWILIO_MEDIA_HOSTS does not list" in interactive(app, IN_HOURS, "hangup\n")


def test_interactive_pound_at_the_recording_is_an_empty_recording(app: Flask) -> None:
    output = interactive(app, OUT_OF_HOURS, "0\n1\n#\nhangup\n")
    assert "cannot press" not in output
    after = output.split("caller presses # before saying anything: nothing is recorded")[1]
    assert "Sorry, I didn't hear a message." in after and "To record your message again, press 1" in after
    with app.app_context(), get_db().reading() as session:
        assert list(session.scalars(select(Message))) == []


def test_interactive_bad_clips_and_words_at_a_recording_say_one_line_and_the_call_goes_on(app: Flask) -> None:
    readme = Path(__file__).parent.parent / "README.md"
    output = interactive(
        app, OUT_OF_HOURS, f"0\n1\nnope.wav\n{readme}\nhello there\n5\n{MESSAGES / 'ada.wav'}\nhangup\n"
    )
    assert "  ! nope.wav: no such file\n" in output
    assert f"  ! {readme} is not a WAV file\n" in output
    assert "  ! typed words cannot be recorded: type a .wav file to record it, # to end" in output
    assert "  ! pressing '5' does not end this recording (its finishOnKey is '#')" in output
    assert "caller records ada.wav" in output and "I have your message" in output


def test_interactive_transfer_refuses_anything_but_an_outcome(app: Flask) -> None:
    output = interactive(app, IN_HOURS, "0\n?\nhello?\nbusy\nhangup\n")
    help_list = output.split("? the IVR is transferring")[1]
    for outcome in ("completed ", "busy ", "no-answer ", "failed "):
        assert f"      {outcome}" in help_list
    assert (
        "  ! 'hello?' is no way a transfer ends: Twilio's DialCallStatus is one of completed, busy, no-answer, failed"
        in output
    )
    assert "the other side: hello?" not in output
    assert "the other side: busy" in output and "no one from our team could take your call" in output


def test_interactive_empty_line_at_a_transfer_is_completed(app: Flask) -> None:
    output = interactive(app, IN_HOURS, "0\n\n")
    assert "the other side: completed" in output


def test_interactive_end_of_input_hangs_up_cleanly(app: Flask) -> None:
    output = interactive(app, IN_HOURS, "2\n")
    assert output.rstrip().endswith("caller hangs up")


# ---- scenario files: one line naming the file, the step and the problem ----------------------


@pytest.mark.parametrize(
    "steps, message",
    [
        ('  - press: "0"\n  - hear: "(order"\n',
         'step 2 (line 3): hear: bad regex "(order": missing ), unterminated subpattern at position 0'),
        ('  - press: "2"\n  - shout: "hello"\n', "step 2 (line 3): unknown step 'shout' (a step is one of hear,"),
        ('  - press: "2"\n    confidence: 0.5\n', "step 1 (line 2): unknown key 'confidence' beside press"),
        ('  - say: "hi"\n    confidance: 0.5\n', "step 1 (line 2): unknown key 'confidance' beside say (say takes"),
        ('  - press: "2"\n    say: "hi"\n', "step 1 (line 2): one action per step, found press and say"),
        ('  - press: "1"\n    press: "2"\n', "step 1 (line 2): press appears twice"),
        ("  - press: 5\n", 'step 1 (line 2): press: write it in quotes, press: "...": YAML read it as the number 5'),
        ("  - press: 0123\n", "YAML read it as the number 83"),
        ('  - press: "2"\n  - press "2"\n', "step 2 (line 3): a step is a mapping like press: \"2\", not the text"),
        ("  -\n", "step 1 (line 2): a step is a mapping like press: \"2\", not nothing"),
        ("  - silence: false\n", "step 1 (line 2): write silence: true, not silence: false"),
        ("  - answer: hello?\n", 'step 1 (line 2): answer: "hello?" is no way a transfer ends: one of completed, busy'),
        ('  - say: "hi"\n    confidence: high\n', "step 1 (line 2): confidence: a number from 0 to 1"),
        ("  - record: missing.wav\n", "step 1 (line 2): record: no such file"),
        ("  - record: s.yaml\n", "s.yaml is not a WAV file"),
        ("  - say_audio: missing.wav\n", "step 1 (line 2): say_audio: no such file"),
        ('  - record: ok.wav\n    callbacks: 0\n', "step 1 (line 2): callbacks: a whole number from 1, not 0"),
        ("  - new_call: {phone: '+1'}\n", "step 1 (line 2): new_call takes true or a mapping of caller and clock"),
    ],
)  # fmt: skip
def test_scenario_mistakes_name_the_file_the_step_and_the_problem(tmp_path: Path, steps: str, message: str) -> None:
    write_clip(tmp_path / "ok.wav", 2)
    path = tmp_path / "s.yaml"
    path.write_text("steps:\n" + steps)
    with pytest.raises(ScenarioError) as raised:
        load(path)
    text = str(raised.value)
    assert text.startswith(f"{path}: ") and "\n" not in text
    assert message in text


@pytest.mark.parametrize(
    "text, message",
    [
        ('steps:\n  - press: "2"\n   say: x\n', "line 3, column 4: invalid YAML: expected <block end>"),
        ("caller: +15550100001\nsteps:\n  - press: '2'\n", "caller: write it in quotes"),
        ("- press: '2'\n", "a scenario is a mapping with a list of steps (steps:), not a list"),
        ("step:\n  - press: '2'\n", "unknown key 'step' (a scenario has"),
    ],
)
def test_scenario_file_mistakes_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=f"^{path}: .*") as raised:
        load(path)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_missing_scenario_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=f"^{tmp_path / 'gone.yaml'}: no such scenario file$"):
        load(tmp_path / "gone.yaml")


def test_the_cli_prints_a_scenario_mistake_as_one_fail_line_before_any_call(app: Flask, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text('steps:\n  - press: "2"\n  - hear: "order (number"\n')
    result = app.test_cli_runner().invoke(args=["simulate", str(bad), str(tmp_path / "gone.yaml")])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f'FAIL {bad}: step 2 (line 3): hear: bad regex "order (number": missing ), unterminated subpattern at '
        "position 6",
        f"FAIL {tmp_path / 'gone.yaml'}: no such scenario file",
    ]
    assert "caller" not in result.output  # no call was made


def test_an_unknown_outcome_cannot_reach_a_scenario_run(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "dial.yaml"
    path.write_text(f'clock: "{IN_HOURS}"\nsteps:\n  - press: "0"\n  - answer: "busy"\n  - hear: "no one"\n')
    outcome = run(load(path), FlaskTransport(app, TOKEN))
    assert outcome.ok, outcome.report()
    assert json.loads(outcome.as_json())["ok"] is True
    path.write_text(path.read_text().replace('"busy"', '"hello?"'))
    with pytest.raises(ScenarioError, match='step 2 .*answer: "hello\\?" is no way a transfer ends'):
        load(path)
