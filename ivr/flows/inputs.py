"""What the caller did, as the engine hears it: one input per step, whatever the channel.

A channel (ivr/voice/webhooks.py for Twilio) turns its request into one of these; the engine
(ivr/flows/engine.py) reads nothing else of what happened on the call.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Start:
    """A new call arrives."""


@dataclass(frozen=True)
class Keys:
    digits: str


@dataclass(frozen=True)
class Speech:
    text: str
    confidence: float | None = None


@dataclass(frozen=True)
class NoInput:
    """The caller said and pressed nothing before the prompt timed out."""


@dataclass(frozen=True)
class DialOutcome:
    """How a transfer ended: completed, busy, no-answer, failed or canceled."""

    status: str


@dataclass(frozen=True)
class Recording:
    url: str
    sid: str
    duration: int
    # The Twilio account the recording belongs to: whose credentials fetch the audio.
    account_sid: str = ""


CallerInput = Start | Keys | Speech | NoInput | DialOutcome | Recording
