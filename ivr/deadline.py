"""One deadline over a whole exchange with another host: connecting, TLS, the headers, the body and
every redirect, however slowly the other side sends them (a per-read timeout never fires for a host
that sends a byte every few seconds). The worker's downloads (ivr/recordings.py) and its sends to
the team (ivr/messages/notify.py) each run within one, so none holds a thread longer than its lease.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool


class DeadlinePassed(TimeoutError):
    """The exchange was cut off at its deadline (a TimeoutError, as a socket's own would be)."""


class Deadline:
    """One exchange's deadline: when it passes, a timer shuts down every connection the exchange
    opened, so that whatever read is in progress (the TLS handshake, the headers, the body) ends at
    once. Each connection is watched through a duplicate of its socket, which stays ours until the
    download is over: the timer never touches a descriptor closed meanwhile and reused by another
    connection of the process."""

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds, self.what = seconds, what
        self.end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._spares: list[socket.socket] = []
        self._cut = False
        self._timer = threading.Timer(seconds, self._cut_all)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            for spare in self._spares:
                spare.close()
            self._spares.clear()

    def watch(self, sock: socket.socket) -> None:
        """Cut `sock`'s connection at the deadline (at once if it has passed)."""
        spare = sock.dup()
        with self._lock:
            self._spares.append(spare)
            if self._cut:
                _shut(spare)

    def _cut_all(self) -> None:
        with self._lock:
            self._cut = True
            for spare in self._spares:
                _shut(spare)

    def passed(self) -> bool:
        return self._cut or time.monotonic() >= self.end

    def refusal(self) -> DeadlinePassed:
        return DeadlinePassed(f"{self.what} took longer than {self.seconds:g} s")

    def read_timeout(self, longest: float) -> float:
        """requests' timeout for the next request (connect, and each read): never past the deadline."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise self.refusal()
        return min(longest, left)

    def session(self) -> requests.Session:
        """A requests session whose every connection this deadline watches."""
        session = requests.Session()
        session.mount("http://", _WatchedAdapter(self))
        session.mount("https://", _WatchedAdapter(self))
        return session


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed by the other side
        pass


class _Watched:
    """A urllib3 connection whose socket a Deadline watches from the moment it connects (before any
    TLS handshake: _new_conn is where urllib3 makes the socket, for http and https alike)."""

    def __init__(self, *args: Any, deadline: Deadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        self.deadline.watch(sock)
        return sock


class _WatchedHTTP(_Watched, HTTPConnection):
    pass


class _WatchedHTTPS(_Watched, HTTPSConnection):
    pass


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter, with every connection it opens for one download watched by its deadline."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline
        super().__init__()

    def get_connection_with_tls_context(self, *args: Any, **kwargs: Any) -> Any:
        pool = super().get_connection_with_tls_context(*args, **kwargs)
        pool.ConnectionCls = _WatchedHTTPS if isinstance(pool, HTTPSConnectionPool) else _WatchedHTTP
        pool.conn_kw["deadline"] = self.deadline
        return pool
