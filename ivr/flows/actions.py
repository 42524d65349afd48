"""What the engine tells the channel to do next: say, play, listen, connect, record, hang up.

The engine answers each step with a list of these; a channel (ivr/voice/twiml.py for Twilio)
only translates them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Say:
    prompt: str
    values: Mapping[str, str] = field(default_factory=dict)
    # Said in this language rather than the call's: each language offers itself at the greeting.
    language: str = ""


@dataclass(frozen=True)
class Listen:
    """Wait for keys or speech at `node`; a silent caller comes back as NoInput."""

    node: str
    num_digits: int | None = None
    finish_on_key: str = "#"
    hints: tuple[str, ...] = ()
    speech: bool = True


@dataclass(frozen=True)
class Connect:
    """Transfer the caller to a person; `node` hears how it went (answered, busy, no answer).

    The agent's phone shows `caller_id`: the caller's own number, which Twilio allows when it
    forwards an inbound call."""

    number: str
    node: str
    timeout: int = 20
    caller_id: str = ""


@dataclass(frozen=True)
class RecordMessage:
    """Record the caller after a beep until # or silence; `node` gets the recording. With
    `status_callback`, Twilio also tells the recording webhook when the audio is ready."""

    node: str
    max_length: int = 120
    timeout: int = 5
    status_callback: bool = False


@dataclass(frozen=True)
class Play:
    """Play an audio file (a caller's own recording, played back)."""

    url: str


@dataclass(frozen=True)
class HangUp:
    pass


Action = Say | Play | Listen | Connect | RecordMessage | HangUp
