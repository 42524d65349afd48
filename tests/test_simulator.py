"""The simulator follows TwiML as Twilio does, against a small app of hand-written TwiML."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from ivr.simulator.phone import CallError
from ivr.simulator.scenario import ScenarioError, load, run
from ivr.simulator.transport import FlaskTransport
from tests.helpers import SIMULATOR_TOKEN as TOKEN
from tests.helpers import call_on, twiml_app, write_clip

MENU = '<Response><Gather numDigits="1" input="dtmf speech" hints="a, b"><Say>Press one.</Say></Gather><Say>Bye.</Say></Response>'


def test_standard_parameters_and_signature() -> None:
    call, received = call_on({"/voice/incoming": MENU})
    path, params = received[0]
    assert path == "/voice/incoming"
    assert params["CallSid"].startswith("CA") and len(params["CallSid"]) == 34
    assert params["AccountSid"].startswith("AC")
    assert (params["From"], params["CallStatus"], params["Direction"], params["ApiVersion"]) == (
        "+15551234567", "ringing", "inbound", "2010-04-01")  # fmt: skip
    assert call.hears("press one") == "Press one"
    assert call.hints == ["a", "b"]


def test_num_digits_and_default_action_is_the_current_url() -> None:
    call, received = call_on({"/voice/incoming": MENU})
    call.press("123")
    assert received[1] == ("/voice/incoming", {**received[1][1], "Digits": "1"})
    assert received[1][1]["CallStatus"] == "in-progress"


def test_a_num_digits_that_is_no_ascii_number_is_ignored() -> None:
    # A server under test may send anything; "²" passes str.isdigit() but not int().
    call, received = call_on({"/voice/incoming": '<Response><Gather numDigits="²" action="/n"/></Response>'})
    call.press("5001#")
    assert received[1][0] == "/n" and received[1][1]["Digits"] == "5001"


def test_finish_on_key_is_stripped() -> None:
    call, received = call_on(
        {"/voice/incoming": '<Response><Gather action="/n"><Say>Number?</Say></Gather></Response>'}
    )
    call.press("5001#")
    assert received[1][0] == "/n" and received[1][1]["Digits"] == "5001"


def test_silence_falls_through_to_the_next_verb_then_hangs_up() -> None:
    call, received = call_on({"/voice/incoming": MENU})
    call.silence()
    assert call.hears("bye")
    assert call.ended
    assert received[-1][0] == "/voice/status" and received[-1][1]["CallStatus"] == "completed"
    assert int(received[-1][1]["CallDuration"]) >= 5


def test_speech_posts_speech_result_and_confidence() -> None:
    call, received = call_on({"/voice/incoming": MENU})
    call.say("hello there", confidence=0.5)
    assert received[1][1]["SpeechResult"] == "hello there" and received[1][1]["Confidence"] == "0.50"
    assert "Digits" not in received[1][1]


def test_speech_at_a_keypad_only_gather_is_not_heard() -> None:
    call, received = call_on(
        {"/voice/incoming": "<Response><Gather><Say>Keys only.</Say></Gather><Say>Nothing?</Say></Response>"}
    )
    call.say("one")
    assert call.hears("nothing")
    assert all("SpeechResult" not in params for _, params in received)


def test_redirect_is_followed_and_the_end_of_a_document_hangs_up() -> None:
    call, received = call_on({"/voice/incoming": "<Response><Say>A</Say><Redirect>/b</Redirect></Response>",
                              "/b": "<Response><Say>B</Say></Response>"})  # fmt: skip
    assert call.hears("A B") and call.ended
    assert [path for path, _ in received] == ["/voice/incoming", "/b", "/voice/status"]


def test_action_on_empty_result_posts_with_nothing() -> None:
    call, received = call_on(
        {"/voice/incoming": '<Response><Gather action="/e" actionOnEmptyResult="true"/></Response>'}
    )
    call.silence()
    assert received[1][0] == "/e" and "Digits" not in received[1][1]


def test_dial_posts_its_outcome() -> None:
    call, received = call_on(
        {"/voice/incoming": '<Response><Dial action="/after"><Number>+15550000000</Number></Dial></Response>'}
    )
    assert call.waiting_for == "dial"
    call.answer("busy")
    assert received[1] == ("/after", {**received[1][1], "DialCallStatus": "busy", "DialCallDuration": "0"})


def test_record_posts_the_action_then_the_status_callback_and_serves_the_clip(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "m.wav", 3)
    call, received = call_on(
        {"/voice/incoming": '<Response><Record action="/saved" recordingStatusCallback="/rec"/></Response>'}
    )
    call.record(clip)
    paths = [path for path, _ in received]
    assert paths[1:3] == ["/saved", "/rec"]
    action, status = received[1][1], received[2][1]
    assert action["RecordingDuration"] == "3" and action["RecordingSid"].startswith("RE") and action["Digits"] == "#"
    assert status["RecordingStatus"] == "completed" and status["RecordingSid"] == action["RecordingSid"]
    url = action["RecordingUrl"]
    assert re.fullmatch(rf"http://127\.0\.0\.1:\d+/2010-04-01/Accounts/{call.account_sid}/Recordings/RE\w+", url)
    assert requests.get(url + ".wav", auth=(call.account_sid, TOKEN), timeout=5).content == clip.read_bytes()
    assert requests.get(url + ".wav", auth=(call.account_sid, "wrong"), timeout=5).status_code == 401


def test_an_empty_recording_goes_on_to_the_next_verb_without_an_action(tmp_path: Path) -> None:
    silent = write_clip(tmp_path / "silent.wav", 3, loud=False)
    twiml = ('<Response><Record action="/saved" recordingStatusCallback="/rec" recordingStatusCallbackEvent='
             '"completed absent"/><Say>Nothing recorded</Say></Response>')  # fmt: skip
    call, received = call_on({"/voice/incoming": twiml})
    call.record(silent)
    call.hears("Nothing recorded")
    paths = [path for path, _ in received]
    assert "/saved" not in paths and received[1] == ("/rec", {**received[1][1], "RecordingStatus": "absent"})


def test_hanging_up_while_recording_still_posts_the_recording(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "m.wav", 2)
    twiml = '<Response><Record action="/saved" recordingStatusCallback="/rec"/></Response>'
    call, received = call_on({"/voice/incoming": twiml, "/saved": "<Response><Say>Not heard</Say></Response>"})
    call.record(clip, then_hangup=True)
    assert [path for path, _ in received][1:] == ["/saved", "/rec", "/voice/status"]
    assert received[1][1]["Digits"] == "hangup" and call.ended and "Not heard" not in call.heard


def test_a_reply_that_is_not_twiml_is_reported() -> None:
    with pytest.raises(CallError, match="application error"):
        call_on({"/voice/incoming": "NOT XML"})


def test_impossible_actions_are_reported() -> None:
    call, _ = call_on({"/voice/incoming": "<Response><Say>Bye</Say></Response>"})
    with pytest.raises(CallError, match="call has ended"):
        call.press("1")


def test_a_looping_app_is_stopped() -> None:
    with pytest.raises(CallError, match="looping"):
        call_on({"/voice/incoming": "<Response><Redirect>/voice/incoming</Redirect></Response>"})


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_scenario_failure_names_the_step(tmp_path: Path) -> None:
    app, _ = twiml_app({"/voice/incoming": MENU})
    scenario = load(write(tmp_path, 'steps:\n  - hear: "press one"\n  - press: "1"\n  - hear: "goodbye"\n'))
    outcome = run(scenario, FlaskTransport(app, TOKEN))
    assert not outcome.ok
    assert outcome.failures[0]["step"] == 3
    assert 'step 3 (hear: "goodbye")' in outcome.report()
    assert json.loads(outcome.as_json())["ok"] is False


@pytest.mark.parametrize(
    "text, message",
    [
        ("steps: []", "needs a list of steps"),
        ("steps:\n  - shout: hello\n", "step 1"),
        ("steps:\n  - press: '1'\n    say: hi\n", "one action per step"),
        ("[not, a, mapping", "invalid YAML"),
        ("steps:\n  - new_call: {phone: '+1'}\n", "new_call takes"),
        ("steps:\n  - new_call: {clock: tomorrow}\n", "clock must be a date"),
    ],
)
def test_bad_scenario_files_are_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        load(write(tmp_path, text))


def test_cli_exit_status_and_json(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    good = write(tmp_path, 'steps:\n  - press: "2"\n  - hear: "order number"\n')
    result = runner.invoke(args=["simulate", str(good)])
    assert result.exit_code == 0, result.output
    assert "caller presses 2" in result.output and "PASS" in result.output
    result = runner.invoke(args=["simulate", "--json", str(good)])
    assert json.loads(result.output)["ok"] is True
    bad = tmp_path / "bad.yaml"
    bad.write_text('steps:\n  - press: "2"\n  - hear: "account balance"\n')
    result = runner.invoke(args=["simulate", str(bad)])
    assert result.exit_code == 1 and 'step 2 (hear: "account balance")' in result.output


def test_cli_interactive(app) -> None:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["simulate"], input="2\nfifty oh one\n\nhangup\n")
    assert result.exit_code == 0, result.output
    assert "has shipped with UPS" in result.output and "caller stays silent" in result.output
