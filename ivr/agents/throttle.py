"""How long a log-in must wait before its password is checked (OWASP ASVS 2.2), and known devices.

Failed log-ins make later ones wait, never lock: a wait grows with the failures and has a ceiling,
and an attempt during a wait is refused at once, without checking the password (so a flood costs no
password hash). Failures are counted in the last WINDOW, since the last good log-in of each group:

- one name from one address (a person mistyping, or a stranger guessing): 5 free, then 30 s, 1 min...
  up to the whole window;
- one address, every name (a stranger trying many names): 20 free, then the same;
- one name, every address (a crowd): 10 free, then 1 s, 2 s... up to a minute, never more, so the
  crowd slows the guessing down to one a minute and the agent still gets in after a minute.

An agent's browser that has logged in before carries a signed "known device" cookie. From it, only
that device's own failures count (5 free, then the pair's waits): neither the crowd nor the others at
the same address can make the agent wait. Attempts are forgotten after the window (the worker's
`forget`), so the table holds at most a window's worth.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import math
import os
import secrets
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from ivr.db import Database
from ivr.models import LoginAttempt, as_utc

log = logging.getLogger(__name__)

WINDOW = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Rule:
    """Failures of one group that are free, then a wait from the last of them that doubles; counted
    since the group's last good log-in when `reset` (a stranger's address is not cleared by a colleague's)."""

    free: int
    first: dt.timedelta
    longest: dt.timedelta
    reset: bool = True

    def wait(self, failures: int) -> dt.timedelta:
        if failures < self.free:
            return dt.timedelta(0)
        return min(self.first * 2 ** min(failures - self.free, 20), self.longest)


NAME_AND_ADDRESS = Rule(5, dt.timedelta(seconds=30), WINDOW)
ADDRESS = Rule(20, dt.timedelta(seconds=30), WINDOW, reset=False)
CROWD = Rule(10, dt.timedelta(seconds=1), dt.timedelta(minutes=1), reset=False)
DEVICE = NAME_AND_ADDRESS

# The known-device cookie: the agent's id and the device's own random id, signed with the secret key.
COOKIE = "ivr_device"
COOKIE_DAYS = 180
SALT = "ivr.known-device"


class TooManyFailures(Exception):
    """The attempt came during a wait: refused before its password was checked."""

    def __init__(self, wait: dt.timedelta) -> None:
        seconds = max(1, int(wait.total_seconds() + 0.999))
        said = f"{seconds} second{'s' * (seconds > 1)}" if seconds < 120 else f"{-(-seconds // 60)} minutes"
        super().__init__(f"Too many failed log-ins. Try again in {said}.")
        self.seconds = seconds


def refuse_if_waiting(
    session: Session, name: str, address: str, device: str, now: dt.datetime, known_address: bool = False
) -> None:
    """Raise TooManyFailures while any of the attempt's groups waits. From the agent's known device,
    only its own failures count; from an address the agent has logged in from, only that address's."""
    if device:
        groups: Iterable[tuple[Rule, tuple[ColumnElement[bool], ...]]] = [
            (DEVICE, (LoginAttempt.name == name, LoginAttempt.device == device))
        ]
    elif known_address:
        groups = [(NAME_AND_ADDRESS, (LoginAttempt.name == name, LoginAttempt.address == address))]
    else:
        groups = [
            (NAME_AND_ADDRESS, (LoginAttempt.name == name, LoginAttempt.address == address)),
            (ADDRESS, (LoginAttempt.address == address,)),
            (CROWD, (LoginAttempt.name == name,)),
        ]
    longest = dt.timedelta(0)
    for rule, group in groups:
        failures, last = _failures(session, group, now, rule.reset)
        if last is not None:  # an attempt stamped ahead of this clock (another host's) waits from now
            longest = max(longest, min(last, now) + rule.wait(failures) - now)
    if longest > dt.timedelta(0):
        raise TooManyFailures(longest)


def _failures(session: Session, group: tuple[ColumnElement[bool], ...], now: dt.datetime, reset: bool):  # type: ignore[no-untyped-def]
    """The group's failures in the window (since its last good log-in, if that resets it), and when the latest was."""
    since = now - WINDOW
    last_good = (
        session.scalar(select(func.max(LoginAttempt.at)).where(*group, LoginAttempt.ok, LoginAttempt.at > since))
        if reset
        else None
    )
    if last_good is not None:
        since = as_utc(last_good)
    count, latest = session.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(
            *group, LoginAttempt.ok.is_(False), LoginAttempt.at > since
        )
    ).one()
    return int(count), (as_utc(latest) if latest is not None else None)


def forget(db: Database, now: dt.datetime) -> int:
    """Attempts older than the window count for nothing: deleted (the worker, every pass; a write
    only when there are some)."""
    old = LoginAttempt.at <= now - WINDOW
    with db.reading() as session:
        if session.scalar(select(LoginAttempt.id).where(old).limit(1)) is None:
            return 0
    with db.transaction() as session:
        return session.execute(delete(LoginAttempt).where(old)).rowcount  # type: ignore[attr-defined]


# The addresses an agent has logged in from lately (most recent first), kept on the agent's row.
KNOWN_ADDRESSES = 10


def known_addresses(seen: list[str] | None, address: str) -> list[str]:
    """The agent's known addresses after a good log-in from `address`."""
    return [address, *(a for a in (seen or []) if a != address)][:KNOWN_ADDRESSES] if address else list(seen or [])


# ---- how many passwords are checked at once ---------------------------------------------------------

# A password hash takes a core (and 32 MB of memory) for about a tenth of a second. However many
# log-ins arrive, this host checks at most CHECKS at once, and no more than RATE a second once a
# BURST of them is spent (a token bucket); any other attempt is told at once to try again in a
# moment. One more check is kept for known devices. So a flood of guesses can neither take a core
# from the phone line nor keep the agents out, and a team logging in at nine is never refused.
CHECKS = 1
BURST = 10
RATE = 2.0


class Busy(Exception):
    """Every password check of this host is taken: the attempt was not checked, nor recorded."""

    def __init__(self) -> None:
        super().__init__("Many log-ins are being checked right now. Try again in a moment.")


@contextmanager
def password_check(data_dir: str, known: bool) -> Iterator[None]:
    """Hold one of this host's password checks (lock files in DATA_DIR/locks, so every worker process
    and thread shares them) while a password is checked; Busy when none is free. The agent's known
    device or address may also take the one kept for them. Should the lock files fail (a full disk, a
    folder not writable), the password is checked all the same, and the failure logged: this is a
    guard for the phone line's cores, not a lock on the door."""
    names = (["known"] if known else []) + [f"log-in-{n}" for n in range(CHECKS)]
    for name in names:
        try:
            fd = _taken(Path(data_dir) / "locks" / f"{name}.lock", counted=name != "known")
        except OSError as error:
            log.error("password checks are not capped: %s", error)
            fd = -1
        if fd is None:
            continue
        try:
            yield
        finally:
            if fd >= 0:
                os.close(fd)  # and with it the lock
        return
    raise Busy()


def _taken(path: Path, counted: bool) -> int | None:
    """The lock file's descriptor, locked (and a token taken from its bucket when `counted`); None
    when another holds it or the bucket is empty."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if not counted or _take_token(fd):
            return fd
    except BlockingIOError:
        pass
    except BaseException:
        os.close(fd)
        raise
    os.close(fd)
    return None


def _take_token(fd: int) -> bool:
    """Take one of the check's tokens, if one is left: the bucket (tokens, when counted) is the lock
    file's content, read and written while its lock is held."""
    now = time.time()
    tokens, counted = float(BURST), now
    try:
        tokens, counted = (float(part) for part in os.pread(fd, 64, 0).decode("ascii").split())
    except ValueError:  # a new file
        pass
    if not math.isfinite(tokens + counted):  # a bucket that reads as nothing: empty, from now on
        tokens, counted = 0.0, now
    tokens = min(float(BURST), tokens + max(now - counted, 0.0) * RATE)
    taken = tokens >= 1
    os.pwrite(fd, f"{tokens - taken:.6f} {now:.6f}".ljust(64).encode("ascii"), 0)
    return taken


# ---- known devices -----------------------------------------------------------------------------


def _signer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def new_device() -> str:
    return secrets.token_hex(8)


def device_cookie(secret: str, agent_id: int, device: str) -> str:
    """The cookie that tells this browser apart as the agent's known device."""
    return _signer(secret).dumps([agent_id, device])


def known_device(secret: str, cookie: str, agent_id: int | None) -> str:
    """The device id in a valid cookie of this agent's, else "" (forged, expired, another agent's)."""
    if not secret or not cookie or agent_id is None or len(cookie) > 200:
        return ""
    try:
        found = _signer(secret).loads(cookie, max_age=COOKIE_DAYS * 86400)
    except BadSignature:
        return ""
    if not (isinstance(found, list) and len(found) == 2 and found[0] == agent_id and isinstance(found[1], str)):
        return ""
    return found[1][:32]
