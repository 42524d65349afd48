"""One interface for offline speech recognition: audio in, text and confidence out.

Two backends: Vosk (the primary one, with a model folder) and PocketSphinx (its English model ships
inside the wheel, so it works with no download). `IVR_SPEECH_BACKEND=auto` takes Vosk when a complete
model folder is there, PocketSphinx otherwise. A model is loaded once per process and shared; the
recogniser objects are not call state, only a loaded model.

Those serve en-US. Other languages are heard only where `IVR_VOSK_MODELS` gives them a Vosk model
("fi-FI=models/vosk-model-small-fi-0.22,lv-LV=..."): `recognizer_for` says which, or None.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.errors import ConfigError
from ivr.languages import CODE as LANGUAGE_CODE
from ivr.speech.audio import Audio
from ivr.speech.recognition import Recognition, Recognizer

log = logging.getLogger(__name__)

BACKENDS = ("auto", "vosk", "pocketsphinx")
# The language the bundled PocketSphinx model, IVR_VOSK_MODEL_PATH and `make model`'s model hear.
ENGLISH = "en-US"


@dataclass(frozen=True)
class Choice:
    backend: str  # "vosk" or "pocketsphinx"
    model_path: str  # the Vosk model folder, or "" for PocketSphinx's bundled model

    def describe(self) -> str:
        if self.backend == "vosk":
            return f"Vosk, model {self.model_path}"
        return "PocketSphinx, its bundled English model (no Vosk model folder configured)"


def choose(settings: dict[str, Any]) -> Choice:
    """Which backend the settings ask for (for en-US); a wrong or partial Vosk model is a clear error
    here, one that IVR_VOSK_MODELS declares for another language too (this runs at start-up)."""
    from ivr.speech.vosk import check_model

    vosk_models(settings)

    backend = str(settings.get("SPEECH_BACKEND", "auto")).strip().lower()
    if backend not in BACKENDS:
        raise ConfigError(f"IVR_SPEECH_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")
    from ivr.speech.vosk import DEFAULT_MODEL

    configured = str(settings.get("VOSK_MODEL_PATH", "") or "")
    # Without a setting, the folder `make model` downloads is used when it is there.
    path = configured or (str(DEFAULT_MODEL) if DEFAULT_MODEL.exists() else "")
    if backend == "pocketsphinx":
        return Choice("pocketsphinx", "")
    if backend == "vosk":
        if not path:
            raise ConfigError(
                f"IVR_SPEECH_BACKEND=vosk needs a Vosk model: none at {DEFAULT_MODEL} and IVR_VOSK_MODEL_PATH is not set"
                " (run `make model` where the internet is reachable)"
            )
        check_model(Path(path))
        return Choice("vosk", path)
    # auto: a model folder named or present must be complete; no folder at all means PocketSphinx.
    if path:
        check_model(Path(path))
        return Choice("vosk", path)
    return Choice("pocketsphinx", "")


def vosk_models(settings: dict[str, Any]) -> dict[str, str]:
    """IVR_VOSK_MODELS as {language: model folder}, each folder checked; a folder not absolute is
    in the project's folder (as models/ is)."""
    from ivr.config import PROJECT_ROOT
    from ivr.speech.vosk import missing_files

    example = "fi-FI=models/vosk-model-small-fi-0.22,lv-LV=/srv/models/vosk-lv"
    declared: dict[str, str] = {}
    for item in (i.strip() for i in str(settings.get("VOSK_MODELS") or "").split(",") if i.strip()):
        code, sep, folder = (part.strip() for part in item.partition("="))
        if not sep or not LANGUAGE_CODE.fullmatch(code) or not folder:
            raise ConfigError(f"IVR_VOSK_MODELS: cannot read {item!r}; write language=folder, e.g. {example}")
        if code in declared:
            raise ConfigError(f"IVR_VOSK_MODELS gives {code} a model twice")
        path = Path(folder) if Path(folder).is_absolute() else PROJECT_ROOT / folder
        if not path.is_dir():
            raise ConfigError(f"IVR_VOSK_MODELS: the Vosk model folder for {code}, {path}, does not exist")
        missing = missing_files(path)
        if missing:
            raise ConfigError(
                f"IVR_VOSK_MODELS: the Vosk model folder for {code}, {path}, is incomplete (missing"
                f" {', '.join(missing)}): unpack the model again"
            )
        declared[code] = str(path)
    return declared


def recognizer_for(settings: dict[str, Any], language: str) -> Choice | None:
    """The model that hears `language`: its IVR_VOSK_MODELS folder, else for en-US the backend
    `choose` picks; None when no model here hears it (a message in it gets no transcript)."""
    declared = vosk_models(settings)
    if language in declared:
        return Choice("vosk", declared[language])
    return choose(settings) if language == ENGLISH else None


_loaded: dict[Choice, Recognizer] = {}
_loading = threading.Lock()
# Models are let go before the interpreter tears modules down (Vosk's own finaliser needs its module).
atexit.register(_loaded.clear)


def get(choice: Choice) -> Recognizer:
    """The process's recogniser for `choice`, loading its model the first time only."""
    with _loading:
        recognizer = _loaded.get(choice)
        if recognizer is None:
            if choice.backend == "vosk":
                from ivr.speech.vosk import VoskRecognizer

                recognizer = VoskRecognizer(Path(choice.model_path))
            else:
                from ivr.speech.pocketsphinx import PocketSphinxRecognizer

                recognizer = PocketSphinxRecognizer()
            _loaded[choice] = recognizer
            # Once per process, when speech is first heard: not on every command.
            log.info("offline speech recognition: %s", choice.describe())
        return recognizer


def for_settings(settings: dict[str, Any]) -> Recognizer:
    return get(choose(settings))


def transcribe(recognizer: Recognizer, audio: Audio) -> Recognition:
    """A voice message as text, a piece at a time (cut at pauses): the recogniser is free for other
    messages between pieces, and no piece is longer than the recogniser handles well."""
    from ivr.speech.pauses import pieces

    heard = [recognizer.recognize(piece) for piece in pieces(audio)]
    words = tuple(word for part in heard for word in part.words)
    return Recognition(
        text=" ".join(part.text for part in heard if part.text),
        confidence=round(sum(c for _, c in words) / len(words), 3) if words else 0.0,
        seconds=sum(part.seconds for part in heard),
        backend=heard[0].backend,
        words=words,
    )


def phrases_from_hints(hints: str | Sequence[str]) -> list[str]:
    """A <Gather>'s hints (comma-separated, as Twilio takes them) as a phrase list."""
    items = hints.split(",") if isinstance(hints, str) else list(hints)
    return [h.strip() for h in items if h.strip()]
