"""Where callers' recordings may come from, and copying them from there: Twilio's API hosts only.

A signed recording report is still input: its RecordingUrl must not choose a host to contact (the
worker sends the account's credentials with it) nor a file name. So a URL is taken only as https on
Twilio's API hosts (api.twilio.com and its regional api.<edge>.<region>.twilio.com), or a host named
in IVR_TWILIO_MEDIA_HOSTS (the simulator's and tests' media servers; http allowed there), with the
account's own SID in a Twilio-shaped path. Credentials go only to such a host, never along a
redirect to another; a download has an overall deadline and a size limit.

Where the copies are then kept is ivr/messages/audio_store.py's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from ivr.deadline import Deadline

# Twilio's IDs: two letters and 32 hex digits.
RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
TWILIO_API_HOST = re.compile(r"api(\.[a-z0-9-]+\.[a-z]{2}[0-9])?\.twilio\.com")
MEDIA_PATH = re.compile(r"/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Recordings/(RE[0-9a-fA-F]{32})(\.wav|\.mp3)?")
# A two-minute message is about 2 MB as 8 kHz 16-bit WAV; far more is not a caller's message.
MAX_BYTES = 25 * 1024 * 1024
# The whole download (connecting, every redirect, the status line and headers, the body) ends within
# DEADLINE_SECONDS; a host silent for READ_TIMEOUT_SECONDS is given up on sooner.
DEADLINE_SECONDS = 60
READ_TIMEOUT_SECONDS = 10
MAX_REDIRECTS = 3


class RecordingRefused(Exception):
    """A recording URL the app will not fetch, or a download that broke its limits."""


def media_hosts(settings: Mapping[str, Any]) -> dict[str, str | None]:
    """IVR_TWILIO_MEDIA_HOSTS as host -> port (None: any port): "127.0.0.1, media.test:8080"."""
    hosts: dict[str, str | None] = {}
    for item in str(settings.get("TWILIO_MEDIA_HOSTS", "") or "").split(","):
        host, _, port = item.strip().lower().partition(":")
        if host:
            hosts[host] = port or None
    return hosts


def _host_allowed(url: str, settings: Mapping[str, Any]) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    listed = media_hosts(settings)
    if host in listed:
        port = listed[host]
        return parts.scheme in ("http", "https") and (port is None or str(parts.port or "") == port)
    return parts.scheme == "https" and parts.port in (None, 443) and bool(TWILIO_API_HOST.fullmatch(host))


def problem(url: str, account_sid: str, settings: Mapping[str, Any]) -> str | None:
    """Why `url` is not a recording of `account_sid` on Twilio (or a listed media host); None: it is."""
    if not ACCOUNT_SID.fullmatch(account_sid or ""):
        return "the account SID is not Twilio's AC + 32 hex digits"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        return "the recording URL cannot be read"
    if parts.username or parts.password or parts.query or parts.fragment:
        return "the recording URL carries credentials, a query or a fragment"
    if not _host_allowed(url, settings):
        return f"{parts.hostname or 'no host'} is not a Twilio API host (nor in IVR_TWILIO_MEDIA_HOSTS)"
    found = MEDIA_PATH.fullmatch(parts.path)
    if found is None:
        return "the recording URL's path is not a Twilio recording's"
    if found.group(1) != account_sid:
        return "the recording URL names another account"
    return None


def sid_in(url: str) -> str:
    """The RecordingSid a Twilio recording URL names ("" when it names none)."""
    found = MEDIA_PATH.fullmatch(urlsplit(url).path)
    return found.group(2) if found else ""


def fetch(url: str, account_sid: str, token: str, settings: Mapping[str, Any]) -> bytes:
    """The recording's WAV bytes, with the account's credentials; RecordingRefused or
    requests.RequestException (and HTTP errors as RecordingRefused) when it cannot be had.

    One deadline, DEADLINE_SECONDS, holds from before the first connection to the last byte, over
    every redirect: a host that trickles its headers or its body a byte at a time is cut off by it
    (requests' own timeout is per read, and a byte every few seconds never trips it)."""
    why = problem(url, account_sid, settings)
    if why:
        raise RecordingRefused(why)
    url = url if url.endswith((".wav", ".mp3")) else f"{url}.wav"
    with Deadline(DEADLINE_SECONDS, "the download") as deadline, deadline.session() as session:
        session.trust_env = False  # no proxy or .netrc from the environment gets the credentials
        try:
            return _exchange(session, url, account_sid, token, settings, deadline)
        except Exception:
            if deadline.passed():  # whatever broke, the deadline broke it: say that, not a closed socket
                raise RecordingRefused(str(deadline.refusal())) from None
            raise


def _exchange(
    session: requests.Session, url: str, account_sid: str, token: str, settings: Mapping[str, Any], deadline: Deadline
) -> bytes:
    for _hop in range(MAX_REDIRECTS + 1):
        trusted = _host_allowed(url, settings)
        auth = (account_sid, token) if trusted and token else None
        wait = deadline.read_timeout(READ_TIMEOUT_SECONDS)
        with session.get(url, auth=auth, timeout=wait, stream=True, allow_redirects=False) as response:
            if response.is_redirect:
                # Followed only to https, and with the credentials only to an allowed host.
                url = urljoin(url, response.headers.get("Location", ""))
                if urlsplit(url).scheme != "https" and not _host_allowed(url, settings):
                    raise RecordingRefused("a redirect away from https")
                continue
            if response.status_code != 200:
                raise RecordingRefused(f"HTTP {response.status_code} from {urlsplit(url).hostname}")
            return _body(response, deadline)
    raise RecordingRefused(f"more than {MAX_REDIRECTS} redirects")


def _body(response: requests.Response, deadline: Deadline) -> bytes:
    """The response body within the size limit and the deadline (a slow sender is cut off)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BYTES:
        raise RecordingRefused(f"the recording is larger than {MAX_BYTES // 1024 // 1024} MB")
    chunks, size = [], 0
    # read1: whatever has arrived (at least a byte), so that the size is checked however the bytes come.
    while chunk := response.raw.read1(64 * 1024, decode_content=True):
        size += len(chunk)
        if size > MAX_BYTES:
            raise RecordingRefused(f"the recording is larger than {MAX_BYTES // 1024 // 1024} MB")
        chunks.append(chunk)
    if deadline.passed():  # a body cut at the deadline may end as if it were whole
        raise RecordingRefused(str(deadline.refusal()))
    return b"".join(chunks)
