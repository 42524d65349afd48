"""Caller audio as the recognisers want it: 16 kHz, 16-bit, mono PCM.

Twilio records 8 kHz G.711 mu-law or 16-bit PCM WAV; a developer may have any rate, stereo or float.
libsndfile (soundfile) decodes them all, mu-law included, and soxr resamples; no `audioop`, which
Python 3.13 removed. Both small English models expect 16 kHz, so 8 kHz audio is upsampled.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
import soxr

from ivr.errors import IVRError

TARGET_RATE = 16_000


class AudioError(IVRError):
    """The file or bytes given are not audio we can read."""


@dataclass(frozen=True)
class Audio:
    pcm: bytes  # 16 kHz, 16-bit little-endian, mono
    seconds: float

    @property
    def is_empty(self) -> bool:
        return not self.pcm


def load(source: str | Path | bytes) -> Audio:
    """Decode a WAV (or any format libsndfile reads) into 16 kHz 16-bit mono."""
    name = "the audio given" if isinstance(source, bytes) else str(source)
    if not isinstance(source, bytes) and not Path(source).is_file():
        raise AudioError(f"{name}: no such audio file")
    try:
        data, rate = soundfile.read(io.BytesIO(source) if isinstance(source, bytes) else source,
                                    dtype="float32", always_2d=True)  # fmt: skip
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as error:
        raise AudioError(
            f"{name} is not an audio file we can read (WAV, 8 or 16 kHz, PCM or mu-law): {error}"
        ) from None
    return from_samples(data, rate)


def from_samples(data: np.ndarray, rate: int) -> Audio:
    """Float samples (frames x channels, or mono) at `rate` into 16 kHz 16-bit mono."""
    mono = data.mean(axis=1) if data.ndim == 2 else data
    seconds = len(mono) / rate if rate else 0.0
    if len(mono) and rate != TARGET_RATE:
        mono = soxr.resample(mono, rate, TARGET_RATE)
    pcm = (np.clip(mono, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    return Audio(pcm, seconds)
