"""What a recogniser hears, and the protocol every recogniser (Vosk, PocketSphinx, the simulator's)
keeps: the backends and the choice between them (ivr/speech/recognizer.py) both import this."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ivr.speech.audio import Audio

# Twilio's hint for "a sequence of digits"; the recognisers turn it into a number grammar.
DIGITS_CLASS = "$OOV_CLASS_DIGIT_SEQUENCE"


# A word the recogniser gives less confidence than this is shown to agents as uncertain; a
# transcript whose words are mostly uncertain is shown as "transcript uncertain".
UNSURE_BELOW = 0.5


@dataclass(frozen=True)
class Recognition:
    text: str  # "" when nothing was recognised
    confidence: float  # 0..1
    seconds: float  # processing time
    backend: str
    # Free-form recognition: each word with the recogniser's confidence in it (0..1).
    words: tuple[tuple[str, float], ...] = ()

    @property
    def uncertain(self) -> bool:
        return is_uncertain(self.words)


def is_uncertain(words: Sequence[Sequence[Any]]) -> bool:
    """Whether most words of a transcript are ones the recogniser was unsure of."""
    return bool(words) and sum(float(w[1]) < UNSURE_BELOW for w in words) * 2 > len(words)


class Recognizer(Protocol):
    name: str

    def recognize(self, audio: Audio, phrases: Sequence[str] | None = None, digits: int | None = None) -> Recognition:
        """What was said in `audio`; with `phrases`, only one of them (or nothing). `digits`: how many
        digits a number must have when the phrases ask for one (DIGITS_CLASS), as the prompt expects."""
        ...
