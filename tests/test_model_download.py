"""Fetching the Vosk model: from a local HTTP server standing in for alphacephei.com, a good archive
is checked and installed in one move, a cut-off download resumes, a wrong checksum or a damaged
archive installs nothing, and no network is one clear line."""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from ivr.speech import download
from ivr.speech.vosk import REQUIRED_FILES, missing_files
from tests.conftest import free_port

NAME = "vosk-model-small-en-us-0.15"


def archive() -> bytes:
    """A zip laid out as the real one: one folder with every file a model needs."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zipped:
        for name in REQUIRED_FILES:
            zipped.writestr(f"{NAME}/{name}", f"contents of {name}\n" * 50)
    return out.getvalue()


class Server(BaseHTTPRequestHandler):
    body = b""
    cut_after: int | None = None  # send this many bytes of a full answer, then close (once)
    ranges: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        cls = type(self)
        start = 0
        if self.headers.get("Range"):
            cls.ranges.append(self.headers["Range"])
            start = int(self.headers["Range"].split("=")[1].rstrip("-"))
        part = cls.body[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(part)))
        self.end_headers()
        if cls.cut_after is not None:
            self.wfile.write(part[: cls.cut_after])
            cls.cut_after = None
            self.close_connection = True
            return
        self.wfile.write(part)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[type[Server]]:
    handler = type("Site", (Server,), {"body": archive(), "cut_after": None, "ranges": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    handler.url = f"http://127.0.0.1:{server.server_port}/{NAME}.zip"  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def test_a_good_archive_is_checked_and_installed_whole(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "models" / NAME
    got = download.download(site.url, target, hashlib.sha256(site.body).hexdigest())
    assert got == target and missing_files(target) == []
    assert sorted(p.name for p in target.parent.iterdir()) == [NAME]  # no archive or work folder left
    assert download.download(site.url, target, "0" * 64) == target  # there already: nothing fetched


def test_a_cut_off_download_resumes_where_it_stopped(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / NAME
    site.cut_after = 1000
    with pytest.raises((requests.RequestException, download.DownloadFailed)):
        download.download(site.url, target, hashlib.sha256(site.body).hexdigest())
    assert not target.exists() and (tmp_path / f"{NAME}.zip.part").stat().st_size == 1000
    download.download(site.url, target, hashlib.sha256(site.body).hexdigest())
    assert site.ranges == ["bytes=1000-"] and missing_files(target) == []


def test_a_wrong_checksum_or_a_damaged_archive_installs_nothing(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / NAME
    with pytest.raises(download.DownloadFailed, match="SHA-256 is .* not installed"):
        download.download(site.url, target, "0" * 64)
    assert list(tmp_path.iterdir()) == []
    site.body = b"PK\x03\x04 not really a zip" * 100
    with pytest.raises(download.DownloadFailed, match="damaged"):
        download.download(site.url, target, hashlib.sha256(site.body).hexdigest())
    assert list(tmp_path.iterdir()) == []


def test_offline_is_one_clear_line_and_pocketsphinx(monkeypatch, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(download, "DEFAULT_MODEL", tmp_path / NAME)
    monkeypatch.setattr(download, "MODEL_URL", f"http://127.0.0.1:{free_port()}/{NAME}.zip")  # nobody listens
    monkeypatch.setattr(download.download, "__defaults__", (download.MODEL_URL, tmp_path / NAME, download.MODEL_SHA256))
    assert download.main(["--quiet"]) == 0
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and said[0].startswith("Speech: PocketSphinx is used") and "no internet connection" in said[0]
    assert download.main([]) == 1  # `make model` asked for it: a failure is one
