"""Real human speech at telephone quality (Debian's pocketsphinx-testdata, installed by `make test`
as root): transcripts whose word confidences mean something, numbers read by a person."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.speech import word_errors
from ivr.speech import recognition
from ivr.speech import recognizer as speech
from ivr.speech.numbers import spoken_digits

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "audio"))
import real_voices  # noqa: E402

pytestmark = pytest.mark.skipif(
    not real_voices.available(), reason=f"real recordings missing: {real_voices.INSTALL} (make test does it as root)"
)


def test_transcripts_of_real_voices_rate_right_words_above_wrong_ones() -> None:
    recognizer = speech.get(speech.Choice("pocketsphinx", ""))
    errors = words = 0
    right: list[float] = []
    wrong: list[float] = []
    for recording in real_voices.recordings():
        heard = speech.transcribe(recognizer, recording["audio"])
        said = recording["text"].split()
        errors += word_errors(recording["text"], heard.text)
        words += len(said)
        for word, confidence in heard.words:
            (right if word in said else wrong).append(confidence)
    assert errors / words <= 0.30  # the target; bench/speech.py prints the figure (28%)
    assert sum(right) / len(right) > sum(wrong) / len(wrong) + 0.1  # a confidence that tells them apart
    assert sum(c < recognition.UNSURE_BELOW for c in wrong) >= len(wrong) / 2  # half the wrong words shown grey...
    assert sum(c >= recognition.UNSURE_BELOW for c in right) >= 0.65 * len(right)  # ...and most right ones not (69%)


def test_digits_read_by_a_person_over_the_phone() -> None:
    recognizer = speech.get(speech.Choice("pocketsphinx", ""))
    [digits] = [r for r in real_voices.recordings() if r["kind"] == "digits"]
    heard = recognizer.recognize(digits["audio"], [recognition.DIGITS_CLASS], 5)
    assert spoken_digits(heard.text) == "29340"
