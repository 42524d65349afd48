"""The official small English Vosk model, into models/: fetched once, checked, unpacked atomically.

`make run`, `make test` and `make model` call this. Where the internet is reachable the first run
downloads it (about 40 MB), resuming a download that was cut off, verifies its SHA-256, unpacks it
beside the target and moves it into place in one rename, so a folder is either whole or absent.
Offline it gives up within seconds and says in one line that PocketSphinx is used instead.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import requests

from ivr.errors import ConfigError
from ivr.speech.vosk import DEFAULT_MODEL, MODEL_URL, check_model, missing_files

# SHA-256 of vosk-model-small-en-us-0.15.zip as alphacephei.com serves it (the checksum numen's
# installer pins, https://git.sr.ht/~geb/numen); IVR_VOSK_MODEL_SHA256 overrides it.
MODEL_SHA256 = "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498"
CONNECT_SECONDS = 5
READ_SECONDS = 60


class DownloadFailed(Exception):
    pass


def download(url: str = MODEL_URL, target: Path = DEFAULT_MODEL, sha256: str = MODEL_SHA256) -> Path:
    """The model folder at `target`, fetched and installed if it is not there whole."""
    if target.is_dir() and not missing_files(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    archive = target.parent / f"{target.name}.zip.part"  # kept across runs: the next one resumes it
    _fetch(url, archive)
    digest = _sha256(archive)
    if sha256 and digest != sha256.lower():
        archive.unlink()
        raise DownloadFailed(f"the archive's SHA-256 is {digest}, not {sha256}: it was not installed")
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        try:
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(work)
        except zipfile.BadZipFile as error:
            archive.unlink()
            raise DownloadFailed(f"the archive is damaged ({error}): it was not installed") from None
        extracted = Path(work) / target.name
        check_model(extracted)
        if target.exists():
            shutil.rmtree(target)  # a partial folder from before
        extracted.rename(target)
    archive.unlink()
    check_model(target)
    return target


def _fetch(url: str, archive: Path) -> None:
    """Download into `archive`, going on from what an earlier, interrupted run left there."""
    have = archive.stat().st_size if archive.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    with requests.get(url, stream=True, timeout=(CONNECT_SECONDS, READ_SECONDS), headers=headers) as response:
        if response.status_code == 416:  # nothing left to send: the file is complete
            return
        response.raise_for_status()
        resumed = response.status_code == 206
        # A connection that drops keeps what came: the length is checked below, and the next run resumes.
        response.raw.enforce_content_length = False
        with archive.open("ab" if resumed else "wb") as out:
            for chunk in response.iter_content(chunk_size=1 << 16):
                out.write(chunk)
        expected = response.headers.get("Content-Length")
    if expected is not None and archive.stat().st_size < (have if resumed else 0) + int(expected):
        raise DownloadFailed("the download was cut off; run it again to go on from where it stopped")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    import os

    quiet = "--quiet" in (argv if argv is not None else sys.argv[1:])
    if DEFAULT_MODEL.is_dir() and not missing_files(DEFAULT_MODEL):
        if not quiet:
            print(f"Vosk model ready: {DEFAULT_MODEL}")
        return 0
    try:
        path = download(sha256=os.environ.get("IVR_VOSK_MODEL_SHA256", MODEL_SHA256))
    except (requests.RequestException, ConfigError, DownloadFailed, OSError) as error:
        reason = "no internet connection" if isinstance(error, requests.ConnectionError | requests.Timeout) else error
        print(f"Speech: PocketSphinx is used, because the Vosk model could not be fetched from {MODEL_URL}"
              f" ({reason}).", file=sys.stderr)  # fmt: skip
        return 0 if quiet else 1
    print(f"Vosk model ready: {path}; offline recognition uses it from now on.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
