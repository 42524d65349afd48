"""The simulator's stand-in for Twilio's media store: a local HTTP server for recorded clips.

A clip recorded in a simulated call gets a RecordingUrl shaped like Twilio's
(/2010-04-01/Accounts/AC.../Recordings/RE...), served as WAV (with or without the .wav ending) behind
HTTP Basic authentication with the account SID and auth token, as Twilio's "HTTP Basic
Authentication for media access" requires. A clip can be made to fail its first downloads, to
play a download that succeeds only on retry. One server per process, started on first use.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# The port `make` lists in .env (IVR_TWILIO_MEDIA_HOSTS=127.0.0.1:5077) for the simulator's downloads.
PORT = 5077
PATH = re.compile(r"^/2010-04-01/Accounts/(AC\w+)/Recordings/(RE\w+?)(\.wav)?$")


@dataclass
class Clip:
    path: Path
    account_sid: str
    token: str
    fail_first: int = 0
    served: int = 0
    refused: int = 0


class MediaServer:
    def __init__(self, port: int = 0) -> None:
        self.clips: dict[str, Clip] = {}
        self.lock = threading.Lock()
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        except OSError:  # taken (another simulator): any port, which a server listing only `port` refuses
            server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        server.daemon_threads = True
        self.server = server
        self.port = server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=server.serve_forever, name="simulated-media", daemon=True).start()

    def publish(self, path: Path, account_sid: str, token: str, recording_sid: str, fail_first: int = 0) -> str:
        """Serve `path` as this recording; its RecordingUrl (no extension, as Twilio posts it)."""
        with self.lock:
            self.clips[recording_sid] = Clip(Path(path), account_sid, token, fail_first)
        return f"{self.base_url}/2010-04-01/Accounts/{account_sid}/Recordings/{recording_sid}"

    def clip(self, recording_sid: str) -> Clip | None:
        with self.lock:
            return self.clips.get(recording_sid)


def _handler(media: MediaServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            found = PATH.match(self.path.split("?", 1)[0])
            clip = media.clip(found.group(2)) if found else None
            if clip is None or found is None or found.group(1) != clip.account_sid:
                self._answer(404, b"The requested resource was not found")
                return
            expected = base64.b64encode(f"{clip.account_sid}:{clip.token}".encode()).decode()
            if self.headers.get("Authorization", "") != f"Basic {expected}":
                clip.refused += 1
                self._answer(401, b"Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'})
                return
            with media.lock:
                clip.served += 1
                failing = clip.served <= clip.fail_first
            if failing:
                self._answer(503, b"Service Unavailable (simulated)")
                return
            self._answer(200, clip.path.read_bytes(), {"Content-Type": "audio/x-wav"})

        def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # quiet: the simulator prints the call, not its downloads

    return Handler


_server: MediaServer | None = None
_server_lock = threading.Lock()


def published() -> set[str]:
    """The RecordingSids served so far in this process (none if no clip was recorded)."""
    with _server_lock:
        return set(_server.clips) if _server is not None else set()


def server(port: int = 0) -> MediaServer:
    """The process's media server, started on `port` (0: any) on first use."""
    global _server
    with _server_lock:
        if _server is None:
            _server = MediaServer(port)
        return _server


def port_for(settings: Mapping[str, Any]) -> int:
    """The port IVR_TWILIO_MEDIA_HOSTS lists for 127.0.0.1 (`make` writes 127.0.0.1:{PORT}): the one port
    of this host that may receive the account's credentials with a download. 0 when any port may."""
    from ivr.recordings import media_hosts

    listed = media_hosts(settings).get("127.0.0.1")
    return int(listed) if listed and listed.isdigit() and int(listed) < 65536 else 0
