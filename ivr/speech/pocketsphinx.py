"""The PocketSphinx backend: its English model ships inside the wheel, so it needs no download.

Phrase lists become a JSGF grammar (one search per distinct list, kept on the decoder); Twilio's
digit-sequence hint becomes a number grammar, of the length the prompt expects when it says. Words
the dictionary does not know are left out of the grammar rather than failing it. Grammar answers
get a confidence from how well the audio fits the grammar's path, so speech that is none of the
phrases can fall below the engine's floor; transcripts get each word's lattice posterior.
"""

from __future__ import annotations

import hashlib
import math
import os
import queue
import re
import threading
import time
from collections.abc import Sequence
from typing import Any

from ivr.speech import pauses
from ivr.speech.audio import TARGET_RATE, Audio
from ivr.speech.matching import CONFIDENCE_FLOOR
from ivr.speech.recognition import DIGITS_CLASS, Recognition

# A word insertion penalty well below the default: with a small grammar the default lets noise and
# breaths become extra words ("five zero zero one eight").
WORD_INSERTION_PENALTY = 1e-3
# Beams wider than the defaults (1e-48, 1e-48, 7e-29): with a dozen menu phrases the default beam
# pruned the right phrase early ("start over" heard as nothing); a small grammar keeps it cheap.
BEAMS = {"beam": 1e-80, "pbeam": 1e-80, "wbeam": 1e-60}
# Dither adds pseudo-random noise; a fixed seed, re-applied to every utterance, makes the same audio
# always heard the same way, whoever called before.
DITHER_SEED = 1
# Transcripts: the language model weighed about 0.8 of its defaults in all three passes (6.5, 8.5,
# 9.5), narrower beams than the defaults (same words, a third faster) and a sharper acoustic scale
# for the lattice's posteriors. On telephone-band LibriVox sentences: 33% of words wrong instead of
# 44%, and right words' mean confidence 0.72 against wrong ones' 0.42 (0.59 against 0.45 before).
# Front-end settings (upperf, nfilt, cmn) cannot help: the model's feat.params overrides them.
TRANSCRIPTS = {"lw": 5.2, "fwdflatlw": 6.8, "bestpathlw": 6.0, "beam": 1e-40, "wbeam": 1e-24, "ascale": 10.0,
               "bestpath": True}  # fmt: skip
# Less voiced audio than this is a caller who said nothing: the wide beams would otherwise fit a
# phrase to line hiss. Quiet hiss passes the voice detector for about 0.1 s, a short "no" about 0.3 s.
MIN_SPEECH_SECONDS = 0.2
MAX_SEARCHES = 64
# A grammar always finds its closest phrase, and the lattice posterior of that path is 1.0 whatever
# was said. How well the audio fits that path is what tells an answer from speech that is none of the
# phrases: below FIT_FLOOR (acoustic log-likelihood per frame x1000), the answer's confidence is
# under the engine's CONFIDENCE_FLOOR and the caller is asked again. Chosen on the committed clips:
# 98% of menu answers keep it, 72% of out-of-menu sentences fall below (bench/speech.py).
FIT_FLOOR = -5.0
FIT_SCALE = 0.6
# How callers say numbers: digit by digit ("five oh oh one", "double five"), in pairs ("fifty oh
# one"), or as a quantity ("five thousand and three"); one way through a number, not a mix, which let
# "zero zero" come out as "eleven". Digit by digit is the most common, so it weighs most.
NUMBER_WORDS = """\
<digit> = zero | oh | one | two | three | four | five | six | seven | eight | nine;
<nz> = one | two | three | four | five | six | seven | eight | nine;
<teen> = ten | eleven | twelve | thirteen | fourteen | fifteen | sixteen | seventeen | eighteen | nineteen;
<pair> = <teen> | ( twenty | thirty | forty | fifty | sixty | seventy | eighty | ninety ) [ <nz> ];
<ohs> = oh <nz> | oh oh;
<rest> = [ [ and ] ( <nz> hundred [ [ and ] ( <pair> | <nz> ) ] | <pair> | <nz> ) ];
<lead> = [ my ] [ order | account ] [ number ] [ is ] | it's;
"""
STYLE_WEIGHTS = {"digits": 0.8, "pairs": 0.15, "quantity": 0.05}
MAX_NUMBER_LENGTH = 12


def number_rules(length: int | None) -> str:
    """JSGF rules ending in <number>: exactly `length` digits when the prompt says how many, else any."""
    w = STYLE_WEIGHTS
    if not length:
        return NUMBER_WORDS + (
            f"<number> = /{w['digits']}/ ( <digit> | double <digit> | triple <digit> )+"
            f" | /{w['pairs']}/ [ <nz> ] <pair> ( <pair> | <ohs> )*"
            f" | /{w['quantity']}/ ( ( <nz> | <pair> ) thousand <rest> | <nz> hundred [ [ and ] ( <pair> | <nz> ) ] );\n"
        )
    length = min(length, MAX_NUMBER_LENGTH)
    # <dK>: K digits said one, two ("double five") or three ("triple oh") at a time.
    rules = ["<d1> = <digit>;", "<d2> = <digit> <d1> | double <digit>;"]
    for k in range(3, length + 1):
        triple = "triple <digit>" + (f" <d{k - 3}>" if k > 3 else "")
        rules.append(f"<d{k}> = <digit> <d{k - 1}> | double <digit> <d{k - 2}> | {triple};")
    # <pK>: K digits in pairs ("fifty oh one" is 50 01), an odd one first.
    rules += ["<p2> = <pair> | <ohs>;"] + [f"<p{k}> = <pair> <p{k - 2}>;" for k in range(4, length + 1, 2)]
    styles = [f"/{w['digits']}/ <d{length}>"]
    if length >= 2:
        styles.append(f"/{w['pairs']}/ " + (f"<p{length}>" if length % 2 == 0 else f"<nz> <p{length - 1}>"))
    quantity = {3: "<nz> hundred [ [ and ] ( <pair> | <nz> ) ]", 4: "<nz> thousand <rest>", 5: "<pair> thousand <rest>"}
    if length in quantity:
        styles.append(f"/{w['quantity']}/ {quantity[length]}")
    return NUMBER_WORDS + "\n".join(rules) + f"\n<number> = {' | '.join(styles)};\n"


class PocketSphinxRecognizer:
    name = "pocketsphinx"

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self._make = Decoder
        # Answers to prompts: one decoder with a search per phrase list, one utterance at a time.
        # No lattice rescoring (bestpath): over a small grammar it returned unfinished phrases ("other"
        # for "another"); the search's own best complete path is the better answer. Dither: a phone
        # line's digital silence otherwise upsets the features.
        self.decoder = Decoder(
            samprate=TARGET_RATE,
            loglevel="FATAL",
            wip=WORD_INSERTION_PENALTY,
            dither=True,
            seed=DITHER_SEED,
            bestpath=False,
            **BEAMS,
        )
        self.searches: list[str] = []
        self.lock = threading.Lock()
        # Transcripts: decoders of their own, with the language model's default beams and lattice
        # rescoring, whose word posteriors are the words' confidences. One per thread transcribing,
        # up to one per core. PocketSphinx holds Python's GIL while it decodes, so threads take turns
        # a piece of a message at a time (ivr/speech/pauses.py) rather than decode at once; more
        # throughput is more worker processes, which the messages' claims keep apart.
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._made = 0
        self._making = threading.Lock()

    def recognize(self, audio: Audio, phrases: Sequence[str] | None = None, digits: int | None = None) -> Recognition:
        started = time.perf_counter()
        if not has_speech(audio.pcm):
            return Recognition("", 0.0, time.perf_counter() - started, self.name)
        if not phrases:
            words = self._transcribe(audio)
            confidence = sum(c for _, c in words) / len(words) if words else 0.0
            text = " ".join(w for w, _ in words)
            return Recognition(text, round(confidence, 3), time.perf_counter() - started, self.name, words)
        with self.lock:
            self.decoder.activate_search(self._search(phrases, digits))
            # Fresh features (cepstral mean, dither) for every utterance: one caller's audio never
            # shifts how the next one is heard. Costs about 0.1 ms.
            self.decoder.reinit_feat()
            self.decoder.start_utt()
            self.decoder.process_raw(audio.pcm, full_utt=True)
            self.decoder.end_utt()
            hypothesis = self.decoder.hyp()
            text = hypothesis.hypstr.strip() if hypothesis is not None else ""
            confidence = fit_confidence(self._fit()) if text else 0.0
        return Recognition(_words_only(text), round(confidence, 3), time.perf_counter() - started, self.name)

    def _transcribe(self, audio: Audio) -> tuple[tuple[str, float], ...]:
        decoder = self._borrow()
        try:
            decoder.reinit_feat()
            decoder.start_utt()
            decoder.process_raw(audio.pcm, full_utt=True)
            decoder.end_utt()
            if decoder.hyp() is None:
                return ()
            decoder.get_prob()  # works out the lattice's posteriors, which the segments then carry
            segments = [(_words_only(s.word), s.prob) for s in decoder.seg()]
            return tuple((word, round(min(max(p, 0.0), 1.0), 3)) for word, p in segments if word)
        finally:
            self._idle.put(decoder)

    def _borrow(self) -> Any:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._making:
            if self._made < (os.cpu_count() or 1):
                self._made += 1
                return self._make(samprate=TARGET_RATE, loglevel="FATAL", dither=True, seed=DITHER_SEED, **TRANSCRIPTS)
        return self._idle.get()

    def _fit(self) -> float:
        """How well the audio fits the best path through the grammar: its acoustic log-likelihood per
        frame (x1000), silences included, so any length of answer is on one scale."""
        frames = max(self.decoder.n_frames(), 1)
        total = sum(math.log(max(s.ascore, 1e-300)) for s in self.decoder.seg() if s.start_frame >= 0)
        return total / frames * 1000

    def _search(self, phrases: Sequence[str], digits: int | None) -> str:
        """The decoder's search for this phrase list, made the first time it is asked for."""
        name = "g" + hashlib.sha1(f"{digits}\n{chr(10).join(phrases)}".encode()).hexdigest()[:16]
        if name not in self.searches:
            if len(self.searches) >= MAX_SEARCHES:
                self.decoder.remove_search(self.searches.pop(0))
            self.decoder.add_jsgf_string(name, self.grammar(phrases, digits))
            self.searches.append(name)
        return name

    def known(self, phrase: str) -> list[str] | None:
        words = re.findall(r"[a-z']+", phrase.lower())
        return words if words and all(self.decoder.lookup_word(w) for w in words) else None

    def grammar(self, phrases: Sequence[str], digits: int | None = None) -> str:
        """JSGF for 'one of these phrases' (and a number, of `digits` digits when given, when one is expected)."""
        alternatives = []
        for phrase in phrases:
            if phrase == DIGITS_CLASS:
                alternatives.append("( [ <lead> ] <number> )")
                continue
            words = self.known(phrase)
            if words:
                alternatives.append("( " + " ".join(words) + " )")
        if not alternatives:
            alternatives.append("<number>")
        return (
            "#JSGF V1.0;\ngrammar caller;\n"
            + number_rules(digits)
            + f"public <answer> = {' | '.join(dict.fromkeys(alternatives))};\n"
        )


def _words_only(text: str) -> str:
    """Without silences, noises and the dictionary's alternate-pronunciation marks ("was(2)")."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>|\[[^\]]*\]|\(\d+\)|\(NULL\)", " ", text)).strip()


def fit_confidence(fit: float) -> float:
    """A 0..1 confidence from the fit, CONFIDENCE_FLOOR exactly at FIT_FLOOR, rising with the fit."""
    shift = math.log(CONFIDENCE_FLOOR / (1 - CONFIDENCE_FLOOR))
    return 1.0 / (1.0 + math.exp(-((fit - FIT_FLOOR) / FIT_SCALE + shift)))


def has_speech(pcm: bytes) -> bool:
    """Whether the voice activity detector hears enough of a voice."""
    return pauses.voiced_seconds(pcm) >= MIN_SPEECH_SECONDS
