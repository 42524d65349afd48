"""`make model`: download the official small English Vosk model into models/ and check it is whole.

Needs the internet (alphacephei.com). Safe to run again: a complete model is left as it is; a partial
one (an interrupted download) is replaced.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import requests

from ivr.errors import ConfigError
from ivr.speech.vosk import DEFAULT_MODEL, MODEL_URL, check_model, missing_files


def download(url: str = MODEL_URL, target: Path = DEFAULT_MODEL) -> Path:
    if target.is_dir() and not missing_files(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        archive = Path(work) / "model.zip"
        with requests.get(url, stream=True, timeout=60) as response:
            response.raise_for_status()
            with archive.open("wb") as out:
                for chunk in response.iter_content(chunk_size=1 << 20):
                    out.write(chunk)
        with zipfile.ZipFile(archive) as zipped:
            bad = zipped.testzip()
            if bad is not None:
                raise ConfigError(f"the downloaded model archive is damaged at {bad}; run `make model` again")
            zipped.extractall(work)
        extracted = Path(work) / target.name
        check_model(extracted)
        if target.exists():
            shutil.rmtree(target)
        extracted.rename(target)
    check_model(target)
    return target


def main() -> int:
    try:
        path = download()
    except (requests.RequestException, ConfigError, zipfile.BadZipFile, OSError) as error:
        print(f"could not get the Vosk model from {MODEL_URL}: {error}", file=sys.stderr)
        print("Without it, offline recognition uses PocketSphinx's bundled English model.", file=sys.stderr)
        return 1
    print(f"Vosk model ready: {path}")
    print("make run and make test use it from there (or set IVR_VOSK_MODEL_PATH to another folder).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
