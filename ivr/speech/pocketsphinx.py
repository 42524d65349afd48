"""The PocketSphinx backend: its English model ships inside the wheel, so it needs no download.

Phrase lists become a JSGF grammar (one search per distinct list, kept on the decoder); Twilio's
digit-sequence hint becomes a loop over number words. Words the dictionary does not know are left
out of the grammar rather than failing it. One decoder per process, used by one thread at a time.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Sequence

from ivr.speech.audio import TARGET_RATE, Audio
from ivr.speech.recognizer import DIGITS_CLASS, Recognition

# A word insertion penalty well below the default: with a small grammar the default lets noise and
# breaths become extra words ("five zero zero one eight").
WORD_INSERTION_PENALTY = 1e-3
# Beams wider than the defaults (1e-48, 1e-48, 7e-29): with a dozen menu phrases the default beam
# pruned the right phrase early ("start over" heard as nothing); a small grammar keeps it cheap.
BEAMS = {"beam": 1e-80, "pbeam": 1e-80, "wbeam": 1e-60}
# Dither adds pseudo-random noise; a fixed seed, re-applied to every utterance, makes the same audio
# always heard the same way, whoever called before.
DITHER_SEED = 1
# Less voiced audio than this is a caller who said nothing: the wide beams would otherwise fit a
# phrase to line hiss. Quiet hiss passes the voice detector for about 0.1 s, a short "no" about 0.3 s.
MIN_SPEECH_SECONDS = 0.2
VAD_FRAME_SECONDS = 0.03
MAX_SEARCHES = 64
# How callers say numbers: digit by digit ("five oh oh one", "double five"), in pairs ("fifty oh
# one"), or as a quantity ("five thousand and three"). Structured rather than any number word in any
# order, which let "zero zero" come out as "eleven".
NUMBER_RULES = """\
<digit> = zero | oh | one | two | three | four | five | six | seven | eight | nine;
<teen> = ten | eleven | twelve | thirteen | fourteen | fifteen | sixteen | seventeen | eighteen | nineteen;
<tens> = twenty | thirty | forty | fifty | sixty | seventy | eighty | ninety;
<pair> = <teen> | <tens> [ <digit> ];
<group> = <digit> | ( double | triple ) <digit> | <pair>;
<quantity> = ( <digit> | <pair> ) thousand [ [ and ] ( <digit> hundred [ [ and ] ( <pair> | <digit> ) ] | <pair> | <digit> ) ]
           | ( <digit> | <pair> ) hundred [ [ and ] ( <pair> | <digit> ) ];
<number> = <group>+ | <quantity>;
<lead> = [ my ] [ order | account ] [ number ] [ is ];
"""


class PocketSphinxRecognizer:
    name = "pocketsphinx"

    def __init__(self) -> None:
        from pocketsphinx import Decoder

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
        self.free_form = self.decoder.current_search()
        self.searches: list[str] = []
        self.lock = threading.Lock()

    def recognize(self, audio: Audio, phrases: Sequence[str] | None = None) -> Recognition:
        started = time.perf_counter()
        if not has_speech(audio.pcm):
            return Recognition("", 0.0, time.perf_counter() - started, self.name)
        with self.lock:
            self.decoder.activate_search(self._search(phrases) if phrases else self.free_form)
            # Fresh features (cepstral mean, dither) for every utterance: one caller's audio never
            # shifts how the next one is heard. Costs about 0.1 ms.
            self.decoder.reinit_feat()
            self.decoder.start_utt()
            self.decoder.process_raw(audio.pcm, full_utt=True)
            self.decoder.end_utt()
            hypothesis = self.decoder.hyp()
            text = hypothesis.hypstr.strip() if hypothesis is not None else ""
            # The posterior of the best path in the lattice (1.0 when a grammar leaves no rival).
            confidence = self.decoder.get_logmath().exp(hypothesis.prob) if text else 0.0
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]*>|\[[^\]]*\]|\(\d+\)", " ", text)).strip()
        return Recognition(text, round(min(max(confidence, 0.0), 1.0), 3), time.perf_counter() - started, self.name)

    def _search(self, phrases: Sequence[str]) -> str:
        """The decoder's search for this phrase list, made the first time it is asked for."""
        name = "g" + hashlib.sha1("\n".join(phrases).encode()).hexdigest()[:16]
        if name not in self.searches:
            if len(self.searches) >= MAX_SEARCHES:
                self.decoder.remove_search(self.searches.pop(0))
            self.decoder.add_jsgf_string(name, self.grammar(phrases))
            self.searches.append(name)
        return name

    def known(self, phrase: str) -> list[str] | None:
        words = re.findall(r"[a-z']+", phrase.lower())
        return words if words and all(self.decoder.lookup_word(w) for w in words) else None

    def grammar(self, phrases: Sequence[str]) -> str:
        """JSGF for 'one of these phrases' (and number words when digits are expected)."""
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
            + NUMBER_RULES
            + f"public <answer> = {' | '.join(dict.fromkeys(alternatives))};\n"
        )


def has_speech(pcm: bytes) -> bool:
    """Whether the voice activity detector that ships with PocketSphinx hears enough of a voice."""
    from pocketsphinx import Vad

    vad = Vad(Vad.LOOSE, TARGET_RATE, VAD_FRAME_SECONDS)
    size = vad.frame_bytes
    voiced = sum(vad.is_speech(pcm[i : i + size]) for i in range(0, len(pcm) - size + 1, size))
    return voiced * VAD_FRAME_SECONDS >= MIN_SPEECH_SECONDS
