"""Talking to the IVR by typing: what a line typed at each kind of prompt does, and what `?` lists.

A <Gather> takes keys, words (said as speech), a .wav (spoken, recognised offline) or silence; a
<Record> takes a .wav (the message), its finishOnKey (nothing recorded) or silence; a <Dial> takes
how the transfer ends, as Twilio's DialCallStatus. 'hangup' ends the call anywhere.
"""

from __future__ import annotations

import re
from pathlib import Path

from ivr.simulator.phone import DIAL_OUTCOMES, RECORD_FINISH_KEYS, CallError, SimulatedCall
from ivr.speech.recognition import DIGITS_CLASS

KEYS = re.compile(r"[0-9*#]+")
HINTS_SHOWN = 12
# Clips in this repository to try, shown when the simulator runs from its root.
EXAMPLE_SPEECH = Path("tests/fixtures/audio/main_menu-002-0.wav")
EXAMPLE_MESSAGE = Path("tests/fixtures/messages/ada.wav")
DIAL_MEANING = {
    "completed": "someone answered, and the call with them ended (an empty line too)",
    "busy": "the line was busy",
    "no-answer": "nobody answered in time",
    "failed": "the call could not be put through",
}


def play_typed(call: SimulatedCall, typed: str) -> None:
    """Do what a line typed at the current prompt means; a CallError says why it cannot be done."""
    prompt = call.waiting_for
    if typed == "hangup":
        call.hangup()
    elif prompt == "dial":
        call.answer(typed or "completed")
    elif not typed:
        call.silence()
    elif prompt == "record":
        if _is_path(typed):
            call.record(typed)
        elif KEYS.fullmatch(typed):
            call.press(typed)
        else:
            raise CallError(
                f"typed words cannot be recorded: type a .wav file to record it, {_finish_key(call)} to end the "
                "recording with nothing recorded, or an empty line to stay silent ('?' lists them)"
            )
    elif KEYS.fullmatch(typed):
        call.press(typed)
    elif _is_path(typed):
        call.say_audio(typed)
    else:
        call.say(typed)


def _is_path(typed: str) -> bool:
    """A clip to play rather than words to say: a .wav name, or any file that is there."""
    return typed.lower().endswith(".wav") or Path(typed).is_file()


def help_text(call: SimulatedCall) -> str:
    """What can be typed at the prompt waiting now, one line each."""
    prompt, attributes = call.waiting_for, call.waiting_attributes
    rows: list[tuple[str, str]] = []
    timeout = attributes.get("timeout") or "5"
    if prompt == "gather":
        rows += _gather_rows(call, attributes)
        rows.append(("empty line", f"stay silent: the prompt times out after {timeout} s"))
    elif prompt == "record":
        example = f" (e.g. {EXAMPLE_MESSAGE})" if EXAMPLE_MESSAGE.is_file() else ""
        rows.append(("a .wav file", f"record that clip as the message{example}"))
        if _finish_key(call):
            rows.append((_finish_key(call), "end the recording before saying anything: nothing is recorded"))
        rows.append(("empty line", f"stay silent: after {timeout} s the recording ends with nothing recorded"))
    elif prompt == "dial":
        rows += [(outcome, DIAL_MEANING.get(outcome, "")) for outcome in DIAL_OUTCOMES]
    rows += [("hangup", "end the call"), ("?", "this list")]
    title = {"gather": "the IVR is listening", "record": "the IVR is recording", "dial": "the IVR is transferring"}
    lines = [f"  ? {title.get(prompt or '', 'the call')}; you can type:"]
    width = max(len(name) for name, _ in rows)
    lines += [f"      {name.ljust(width)}  {meaning}" for name, meaning in rows]
    return "\n".join(lines)


def _gather_rows(call: SimulatedCall, attributes: dict[str, str]) -> list[tuple[str, str]]:
    finish = attributes.get("finishOnKey", "#")
    num_digits = attributes.get("numDigits", "")
    count = int(num_digits) if num_digits.isascii() and num_digits.isdigit() else 0
    ends = [f"after {count} key{'s' if count != 1 else ''}"] if count else []
    ends += [f"at {finish}"] if finish and count != 1 else []
    rows = [("keys", "2, 5001#, * ..." + (f" (it goes on {' or '.join(ends)})" if ends else ""))]
    if "speech" not in attributes.get("input", "dtmf"):
        rows.append(("words", "not heard here: this prompt listens for keys only"))
        return rows
    hints = [_hint(hint) for hint in call.hints]
    listens = ", ".join(hints[:HINTS_SHOWN]) + (", ..." if len(hints) > HINTS_SHOWN else "")
    rows.append(("words", "said as speech" + (f"; it listens for: {listens}" if hints else "")))
    example = f" (e.g. {EXAMPLE_SPEECH})" if EXAMPLE_SPEECH.is_file() else ""
    rows.append(("a .wav file", f"spoken, and recognised offline as Twilio would{example}"))
    return rows


def _hint(hint: str) -> str:
    """A hint as a person reads it: Twilio's class tokens ($OOV_CLASS_DIGIT_SEQUENCE) by what they mean."""
    if hint == DIGITS_CLASS:
        return "a number said digit by digit or as words (five oh oh one, fifty oh one)"
    if hint.startswith("$"):
        return "any " + hint.lstrip("$").removeprefix("OOV_CLASS_").replace("_", " ").lower()
    return hint


def _finish_key(call: SimulatedCall) -> str:
    """The key that ends the waiting <Record>, '#' when it is one of them ('' when no key does)."""
    finish = call.waiting_attributes.get("finishOnKey")
    finish = RECORD_FINISH_KEYS if finish is None else finish
    return "#" if "#" in finish else finish[:1]


def media_note(transport: object) -> str:
    """A warning when the app in this process would refuse the clips recorded here: its
    IVR_TWILIO_MEDIA_HOSTS does not list the simulator's media server (an .env older than that line)."""
    from ivr.recordings import media_hosts
    from ivr.simulator import media

    app = getattr(transport, "app", None)
    listed = media_hosts(app.config) if app is not None else {}
    if app is None or ("127.0.0.1" in listed and listed["127.0.0.1"] in (None, str(media.server().port))):
        return ""
    return (
        f"note: IVR_TWILIO_MEDIA_HOSTS does not list the simulator's media server (127.0.0.1:{media.server().port}),"
        f" so the app will refuse the messages you record here; set IVR_TWILIO_MEDIA_HOSTS=127.0.0.1:{media.PORT}"
        " in .env (as `make` writes it)"
    )
