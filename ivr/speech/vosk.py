"""The Vosk backend: one `vosk.Model` per process, a `KaldiRecognizer` per utterance.

With phrases, the recogniser is constrained to them plus "[unk]" (anything else), as Vosk's
grammar mode works; without, it is free-form with the model's own language model. The only module
that imports `vosk`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from ivr.config import PROJECT_ROOT
from ivr.errors import ConfigError
from ivr.speech.audio import TARGET_RATE, Audio
from ivr.speech.recognition import DIGITS_CLASS, Recognition

MODEL_NAME = "vosk-model-small-en-us-0.15"
MODEL_URL = f"https://alphacephei.com/vosk/models/{MODEL_NAME}.zip"
DEFAULT_MODEL = PROJECT_ROOT / "models" / MODEL_NAME
# What a small Vosk model folder holds; one missing or empty means an interrupted download or copy.
REQUIRED_FILES = (
    "am/final.mdl",
    "conf/mfcc.conf",
    "conf/model.conf",
    "graph/HCLr.fst",
    "graph/Gr.fst",
    "graph/disambig_tid.int",
    "graph/phones/word_boundary.int",
    "ivector/final.ie",
    "ivector/final.dubm",
    "ivector/final.mat",
    "ivector/global_cmvn.stats",
    "ivector/online_cmvn.conf",
    "ivector/splice.conf",
)


def missing_files(folder: Path) -> list[str]:
    return [name for name in REQUIRED_FILES if not (folder / name).is_file() or (folder / name).stat().st_size == 0]


def check_model(folder: Path) -> None:
    """Raise a ConfigError naming the folder if it is not a complete Vosk model."""
    if not folder.is_dir():
        raise ConfigError(
            f"Vosk model folder {folder} does not exist (IVR_VOSK_MODEL_PATH; `make model` downloads one)"
        )
    missing = missing_files(folder)
    if missing:
        raise ConfigError(
            f"Vosk model folder {folder} is incomplete, missing {', '.join(missing)}: download it again with `make model`"
        )


class VoskRecognizer:
    name = "vosk"

    def __init__(self, folder: Path) -> None:
        check_model(folder)
        import vosk

        vosk.SetLogLevel(-1)
        self.vosk = vosk
        self.model = vosk.Model(str(folder))

    def recognize(self, audio: Audio, phrases: Sequence[str] | None = None, digits: int | None = None) -> Recognition:
        started = time.perf_counter()
        # `digits` is not used: Vosk's own language model reads numbers, and the flow checks the length.
        words = [p.lower() for p in phrases or () if p != DIGITS_CLASS]
        # Digit sequences are open-ended: the model's own language model reads numbers well.
        if words and DIGITS_CLASS not in (phrases or ()):
            # As UTF-8 text: escaped (\uXXXX) words are not in any model's vocabulary, and Vosk drops them.
            grammar = json.dumps([*words, "[unk]"], ensure_ascii=False)
            recognizer = self.vosk.KaldiRecognizer(self.model, TARGET_RATE, grammar)
        else:
            recognizer = self.vosk.KaldiRecognizer(self.model, TARGET_RATE)
        recognizer.SetWords(True)
        recognizer.AcceptWaveform(audio.pcm)
        result = json.loads(recognizer.FinalResult())
        heard = [w for w in result.get("result", []) if w.get("word") != "[unk]"]
        text = " ".join(w["word"] for w in heard)
        words = tuple((str(w["word"]), round(float(w.get("conf", 0.0)), 3)) for w in heard)
        confidence = sum(c for _, c in words) / len(words) if words else 0.0
        return Recognition(text, round(confidence, 3), time.perf_counter() - started, self.name, words)
