"""One question after self-service: "Did we solve what you called about?"

Containment counts calls that reached no person; it cannot tell a solved problem from a caller who
gave up. So a share of the callers who got something done (IVR_SURVEY_SHARE percent, 30 by default)
are asked once, just before the goodbye: yes is "confirmed solved" in the insights; no takes back the
call's "helped" and offers a message for the team (or a person, 0, as everywhere); silence is a
goodbye. Never asked twice in a call, never after a transfer or a message.

Which calls are asked is decided by the CallSid alone (its hash), so every host and every step of a
call agree without keeping anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from ivr.config import ConfigError
from ivr.flows.actions import Say
from ivr.flows.context import Context
from ivr.flows.nodes import Goto, Handler, Menu, Option
from ivr.flows.state import CallState
from ivr.flows.voicemail import leave_message

DEFAULT_SHARE = 30
# Outcomes after which the survey is never asked: the caller reached a person or left a message.
NOT_AFTER = ("transferred", "message_left")


def share(settings: Mapping[str, Any]) -> int:
    """IVR_SURVEY_SHARE: the percentage of helped calls asked, 0 to 100 (0: none)."""
    value = settings.get("SURVEY_SHARE", DEFAULT_SHARE)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ConfigError(f"IVR_SURVEY_SHARE must be a whole number from 0 to 100 (a percentage), not {value!r}")
    return value


def in_share(call_sid: str, percent: int) -> bool:
    """Whether a call is among `percent` of calls: by a hash of its CallSid, the same on every host."""
    return int(hashlib.sha256(call_sid.encode()).hexdigest()[:8], 16) % 100 < percent


def asks(state: CallState, context: Context) -> bool:
    """Whether this goodbye asks the question first."""
    return (
        bool(state.collected.get("helped"))
        and not state.collected.get("surveyed")
        and state.outcome not in NOT_AFTER
        and in_share(state.call_sid, share(context.settings))
    )


def solved(state: CallState, context: Context) -> Goto:
    return Goto("goodbye", remember={"survey": "yes"})


def not_solved(state: CallState, context: Context) -> Goto:
    """Not solved: the call is no longer counted helped, and the team may hear about it."""
    return Goto("survey_offer", say=(Say("survey_sorry"),), remember={"survey": "no"}, forget=("helped",),
                not_helped=True)  # fmt: skip


def survey_message(state: CallState, context: Context) -> Goto:
    return Goto("message_start", remember=leave_message("not_solved", "survey_offer"))


NODES = [
    Menu(
        "survey",
        prompt="survey",
        options=(Option("1", "yes", goto="survey_solved"), Option("2", "no", goto="survey_not_solved")),
        help="survey_help",
        # Silence is asked once, then the goodbye (the question is not asked again).
        offer=True,
    ),
    Handler("survey_solved", run=solved, exits={"goodbye": "confirmed solved"}),
    Handler("survey_not_solved", run=not_solved, exits={"survey_offer": "not solved"}),
    Menu(
        "survey_offer",
        prompt="survey_offer",
        options=(Option("1", "leave_message", goto="survey_message"), Option("", "nothing_else", goto="goodbye")),
        help="survey_offer_help",
        footer="person_anywhere",
        offer=True,
    ),
    Handler("survey_message", run=survey_message, exits={"message_start": "a message: not solved"}),
]

HANDLER_PROMPTS = {"survey_sorry": set()}
