"""Engine actions -> TwiML. The only module that imports twilio.twiml.

Prompts that lead up to a Listen are nested inside its <Gather> so the caller can answer before
they finish (barge-in). Every <Gather> is followed by a <Redirect> to the same step, so a silent
caller comes back as a step with no input and the engine, not Twilio, counts the retry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.flows.actions import Action, Connect, HangUp, Listen, Play, RecordMessage, Say

PHONE_NUMBER = re.compile(r"\+?[0-9]{2,15}")
# step_url(node_id) -> the URL (relative) of that node's next step for this call.
StepUrl = Callable[[str], str]
SayText = Callable[[Say], str]


def render(
    actions: Sequence[Action],
    step_url: StepUrl,
    say_text: SayText,
    settings: dict,
    recording_callback: str = "",
    language: str = "en-US",
    voice_for: Callable[[str], str | None] = lambda language: None,
) -> str:
    """TwiML for the actions, spoken and heard in the call's `language` (a Say may name its own,
    as each language's offer at the greeting does), each language in the voice `voice_for` gives;
    `recording_callback` is the URL of Twilio's recording status callbacks."""
    timeout = int(settings.get("GATHER_TIMEOUT", 5))
    response = VoiceResponse()
    pending: list[Say | Play] = []

    def flush(into: VoiceResponse | Gather) -> None:
        for item in pending:
            if isinstance(item, Play):
                into.play(item.url)
            else:
                spoken_in = item.language or language
                into.say(say_text(item), voice=voice_for(spoken_in), language=spoken_in)
        pending.clear()

    for action in actions:
        if isinstance(action, (Say, Play)):
            pending.append(action)
        elif isinstance(action, Listen):
            url = step_url(action.node)
            gather = response.gather(
                input="dtmf speech" if action.speech else "dtmf",
                action=url,
                method="POST",
                timeout=timeout,
                finish_on_key=action.finish_on_key,
                num_digits=action.num_digits,
                hints=", ".join(action.hints) if action.hints and action.speech else None,
                speech_timeout="auto" if action.speech else None,
                language=language if action.speech else None,
            )
            flush(gather)
            response.redirect(url, method="POST")
        elif isinstance(action, Connect):
            flush(response)
            # The caller's own number, shown to the agent: only a phone number (From is the caller's to set).
            caller_id = action.caller_id if PHONE_NUMBER.fullmatch(action.caller_id) else None
            dial = response.dial(
                action=step_url(action.node), method="POST", timeout=action.timeout, caller_id=caller_id
            )
            dial.number(action.number)
        elif isinstance(action, RecordMessage):
            flush(response)
            callback = recording_callback if action.status_callback and recording_callback else None
            response.record(
                action=step_url(action.node),
                method="POST",
                max_length=action.max_length,
                timeout=action.timeout,
                finish_on_key="#",
                play_beep=True,
                recording_status_callback=callback,
                recording_status_callback_method="POST" if callback else None,
                recording_status_callback_event="completed absent" if callback else None,
            )
            # Nothing recorded: Twilio skips the action and goes on here, and the engine hears it.
            response.redirect(step_url(action.node), method="POST")
        elif isinstance(action, HangUp):
            flush(response)
            response.hangup()
    flush(response)
    return str(response)


def apology(text: str, then_url: str | None, language: str, voice: str | None) -> str:
    """Said when anything goes wrong: a short apology, then the main menu (or goodbye)."""
    response = VoiceResponse()
    response.say(text, voice=voice, language=language)
    if then_url:
        response.redirect(then_url, method="POST")
    else:
        response.hangup()
    return str(response)


def empty() -> str:
    return str(VoiceResponse())


def bridge(caller: str, caller_id: str) -> str:
    """An agent's click-to-call: said to the agent when they answer, then the caller is dialled."""
    response = VoiceResponse()
    response.say("Connecting you to the caller who left the message.")
    response.dial(caller_id=caller_id).number(caller)
    return str(response)
