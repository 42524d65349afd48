"""Transcripts agents can trust: long messages a piece at a time, each word with its confidence,
uncertain words grey on the page and "transcript uncertain" when most are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
from flask import Flask
from sqlalchemy import update

from ivr.db import get_db
from ivr.messages.words import transcript_words
from ivr.models import Message
from ivr.speech import pauses
from ivr.speech import recognizer as speech
from ivr.speech.audio import Audio, from_samples, load
from tests.helpers import api_token, app, bearer, leave_message, login  # noqa: F401 (fixtures)

AUDIO = Path(__file__).parent / "fixtures" / "audio"


def spoken(*clips: str, gap: float = 0.8) -> tuple[Audio, list[tuple[float, float]]]:
    """Clips one after another with line hiss between them, as one long message; and where the
    pauses are (in seconds: each clip's own silence at its end, the gap, the next one's at its start)."""
    rng = np.random.default_rng(3)
    parts, pauses_at, at = [], [], 0.0
    for name in clips:
        samples, rate = soundfile.read(AUDIO / name, dtype="float32")
        assert rate == 8000
        parts += [samples, rng.normal(0, 0.002, int(gap * rate)).astype("float32")]
        at += len(samples) / rate
        pauses_at.append((at - 0.3, at + gap + 0.2))
        at += gap
    return from_samples(np.concatenate(parts), 8000), pauses_at


CLIPS = sorted(p.name for p in AUDIO.glob("order_result-*-0.wav"))


def test_a_long_message_is_cut_into_pieces_at_its_pauses() -> None:
    audio, pauses_at = spoken(*CLIPS * 2)  # about 50 s
    assert audio.seconds > 2 * pauses.LONGEST_PIECE_SECONDS
    parts = pauses.pieces(audio)
    assert len(parts) >= 3
    assert b"".join(p.pcm for p in parts) == audio.pcm  # nothing lost, nothing doubled
    assert all(p.seconds <= pauses.LONGEST_PIECE_SECONDS + 0.05 for p in parts)
    cut = 0.0
    for part in parts[:-1]:  # every cut falls in a pause, not in a word
        cut += part.seconds
        assert any(start <= cut <= end for start, end in pauses_at), f"cut at {cut:.2f} s, in speech"


def test_a_short_message_is_one_piece() -> None:
    audio = load(AUDIO / CLIPS[0])
    assert pauses.pieces(audio) == [audio]


def test_an_unbroken_stream_is_cut_at_the_limit() -> None:
    tone = np.sin(np.arange(8000 * 45) * 2 * np.pi * 440 / 8000).astype("float32") * 0.3
    parts = pauses.pieces(from_samples(tone, 8000))
    assert [round(p.seconds) for p in parts] == [20, 20, 5]


@pytest.mark.slow  # about 20 to 50 s: `make test-slow`, which CI runs too
def test_a_transcript_of_pieces_has_every_pieces_words_with_confidences() -> None:
    recognizer = speech.get(speech.Choice("pocketsphinx", ""))
    audio, _ = spoken(*CLIPS * 2)
    whole = speech.transcribe(recognizer, audio)
    one_by_one = [recognizer.recognize(p) for p in pauses.pieces(audio)]
    assert whole.text == " ".join(r.text for r in one_by_one if r.text)
    assert [w for w, _ in whole.words] == whole.text.split()
    assert all(0.0 <= c <= 1.0 for _, c in whole.words)
    assert whole.confidence == pytest.approx(sum(c for _, c in whole.words) / len(whole.words), abs=0.001)


def test_kept_words_are_read_back_only_when_well_formed() -> None:
    kept = [["order", 0.9], ["fifty", 0.2], ["x", "high"], ["y"], "z", [3, 0.5], ["big", 7], ["flag", True]]
    assert transcript_words(kept) == [("order", 0.9, False), ("fifty", 0.2, True), ("big", 1.0, False)]
    assert transcript_words({"not": "a list"}) == [] and transcript_words(None) == []


def set_transcript(app: Flask, message_id: int, words: list[list[object]]) -> None:  # noqa: F811
    with app.app_context(), get_db().transaction() as session:
        session.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(transcript_status="done", transcript=" ".join(str(w[0]) for w in words), transcript_words=words)
        )


def test_the_page_greys_unsure_words_and_escapes_them(app: Flask) -> None:  # noqa: F811
    message_id = leave_message(app)
    set_transcript(app, message_id, [["please", 0.95], ["call", 0.9], ["<b>back</b>", 0.3], ["today", 0.8]])
    page = login(app).get(f"/agent/messages/{message_id}").get_data(as_text=True)
    assert '<span class="unsure" title="the recogniser was unsure of this word">&lt;b&gt;back&lt;/b&gt;</span>' in page
    assert "please call" in page and "Words in grey" in page
    assert "Transcript uncertain" not in page


def test_a_transcript_of_mostly_unsure_words_says_so_on_the_page_the_queue_and_the_api(app: Flask) -> None:  # noqa: F811
    message_id = leave_message(app)
    set_transcript(app, message_id, [["let", 0.2], ["the", 0.6], ["light", 0.1], ["on", 0.3]])
    client = login(app)
    page = client.get(f"/agent/messages/{message_id}").get_data(as_text=True)
    assert "Transcript uncertain" in page
    assert "transcript uncertain:" in client.get("/agent/").get_data(as_text=True)
    data = app.test_client().get(f"/agent/api/messages/{message_id}", headers=bearer(api_token(app))).get_json()
    assert data["transcript"]["uncertain"] is True
    assert data["transcript"]["words"][1] == {"word": "the", "confidence": 0.6}


def test_a_transcript_made_before_words_were_kept_shows_as_it_was(app: Flask) -> None:  # noqa: F811
    message_id = leave_message(app)
    with app.app_context(), get_db().transaction() as session:
        session.execute(
            update(Message).where(Message.id == message_id).values(transcript_status="done", transcript="call me")
        )
    page = login(app).get(f"/agent/messages/{message_id}").get_data(as_text=True)
    assert '<blockquote class="transcript">call me</blockquote>' in page
    assert "Transcript uncertain" not in page and "Words in grey" not in page
