"""A voice message in words for people: its transcript's words and how sure the recogniser was of
them, why it was left, the caller's way through the menus, and its language by name (the agents'
pages, their e-mails and webhooks all say these the same way)."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale, UnknownLocaleError

from ivr.speech.recognition import UNSURE_BELOW, is_uncertain


def transcript_words(stored: object) -> list[tuple[str, float, bool]]:
    """A message's transcript words as kept ([word, confidence] pairs): (word, confidence, unsure).
    Anything else in the column is left out rather than shown."""
    words = []
    for item in stored if isinstance(stored, list) else ():
        if isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
            if isinstance(item[1], int | float) and not isinstance(item[1], bool):
                confidence = min(max(float(item[1]), 0.0), 1.0)
                words.append((item[0], confidence, confidence < UNSURE_BELOW))
    return words


def transcript_uncertain(stored: object) -> bool:
    """Whether most of a kept transcript's words are ones the recogniser was unsure of."""
    return is_uncertain([(word, confidence) for word, confidence, _ in transcript_words(stored)])


# Why a message was left (collected["message_reason"]), as the team says it.
REASONS = {
    "out_of_hours": "out of hours",
    "no_agent": "no agent answered",
    "failures": "could not get through the menus",
    "account_locked": "account locked",
    "pin_failures": "wrong PINs",
    "not_answered": "question not answered",
    "caller_choice": "chose to leave a message",
    "callback_choice": "asked to be called back",
    "problem": "reported a problem",
    "not_solved": "said the call did not solve it",
    "web_message": "wrote on the help centre",
}

# Nodes that are not menus a caller chose from: left out of the path shown to agents.
NOT_PATH = {"greeting", "start"}

# The language the agents' pages, e-mails and transcript notes are written in.
AGENTS_LOCALE = "en_US"


@lru_cache(maxsize=64)
def language_name(code: str, locale: str = AGENTS_LOCALE) -> str:
    """A language by its name in `locale` ("Latvian" for lv-LV, from Babel's CLDR data); the code
    itself when Babel does not know it."""
    try:
        return Locale.parse(code, sep="-").get_language_name(locale) or code
    except (ValueError, TypeError, UnknownLocaleError):
        return code


def no_model_note(code: str) -> str:
    """Why a message has no transcript when no speech model on this server hears its language."""
    return f"No transcript: there is no speech model for {language_name(code)} on this server (IVR_VOSK_MODELS)."


def path_of(events: list[dict]) -> list[str]:  # type: ignore[type-arg]
    """A call's event log as `node: meaning` entries (ivr/agents/story.py says them in words)."""
    steps = [(event.get("node", ""), event.get("matched", "")) for event in events if isinstance(event, dict)]
    return [f"{node}: {matched}" if matched else node for node, matched in steps if node not in NOT_PATH]
