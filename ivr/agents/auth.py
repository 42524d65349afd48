"""Who may use the agents' desk: log-ins (throttled per name and address), sessions, API tokens.

Sessions are Flask-Login's, in a signed cookie that is HttpOnly, SameSite=Lax and Secure behind
https; every form carries Flask-WTF's CSRF token. The API takes an agent's API token as a Bearer
token instead (no cookie, so no CSRF token needed; the password never goes to an integration).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
import re
import secrets

from flask import jsonify, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ivr.db import get_db
from ivr.models import Agent, LoginAttempt, as_utc
from ivr.security import clean

log = logging.getLogger(__name__)
login_manager = LoginManager()
csrf = CSRFProtect()


class AgentUser(UserMixin):
    """The logged-in agent, as Flask-Login keeps it: the session holds the id and the generation."""

    def __init__(self, agent_id: int, name: str, generation: int = 0, role: str = "agent") -> None:
        self.id = agent_id
        self.name = name
        self.generation = generation
        self.role = role

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"

    def get_id(self) -> str:
        return f"{self.id}.{self.generation}"


def end_sessions(agent: Agent) -> None:
    """Every session of this agent ends (the caller commits): log-out, a new password, disabling."""
    agent.session_generation = (agent.session_generation or 0) + 1


# Log-in throttling (OWASP ASVS 2.2): after MAX_FAILURES failed log-ins for one name from one
# address within the window, that name waits there (even the right password) until the window has
# passed since the last failure; from every address together a name waits after MAX_FAILURES_PER_NAME.
# So a stranger's guesses lock out the stranger, not the agent at their own desk.
MAX_FAILURES = 5
MAX_FAILURES_PER_NAME = 50
FAILURE_WINDOW = dt.timedelta(minutes=15)


class TooManyFailures(Exception):
    def __init__(self, minutes: int) -> None:
        super().__init__(f"Too many failed log-ins for this name. Try again in {minutes} minutes.")


@functools.lru_cache(maxsize=1)
def _no_agents_hash() -> str:
    """Checked for a name no agent has, so that an unknown name takes as long as a known one."""
    return generate_password_hash(secrets.token_hex(16))


def verify(name: str, password: str, address: str = "") -> AgentUser | None:
    """The agent with these credentials, or None; every attempt is recorded, never the password.

    Raises TooManyFailures while the name is throttled for this address. The attempt is written
    (as failed) in the same transaction that counts the earlier ones, before the password is
    checked, so guesses sent at once are counted one after another."""
    now = dt.datetime.now(dt.UTC)
    name, address = clean(name)[:80], clean(address)[:64]  # stored with the attempt
    with get_db().transaction() as session:
        agent = session.scalar(select(Agent).where(Agent.name == name).with_for_update())
        _refuse_if_throttled(session, name, address, now)
        attempt = LoginAttempt(name=name, address=address, at=now, ok=False)
        session.add(attempt)
        session.flush()
        attempt_id = attempt.id
        known = (
            (agent.id, agent.name, agent.password_hash, agent.disabled, agent.session_generation, agent.role)
            if agent
            else None
        )
    ok = check_password_hash(known[2] if known else _no_agents_hash(), password) and bool(known) and not known[3]
    if not ok or known is None:
        log.warning("failed agent log-in for %r from %s", name, address)
        return None
    with get_db().transaction() as session:
        session.execute(update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(ok=True))
    return AgentUser(known[0], known[1], known[4], known[5])


def _refuse_if_throttled(session, name: str, address: str, now: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    """Failures for the name within the window since its last good log-in: from this address (since
    a good one from here), and from all addresses (since any good one)."""
    for where, most in (((LoginAttempt.address == address,), MAX_FAILURES), ((), MAX_FAILURES_PER_NAME)):
        mine = (LoginAttempt.name == name, *where)
        last_ok = session.scalar(select(func.max(LoginAttempt.at)).where(*mine, LoginAttempt.ok))
        since = max(now - FAILURE_WINDOW, as_utc(last_ok) if last_ok else now - FAILURE_WINDOW)
        count, latest = session.execute(
            select(func.count(), func.max(LoginAttempt.at)).where(
                *mine, LoginAttempt.ok.is_(False), LoginAttempt.at > since
            )
        ).one()
        if count >= most and latest is not None:
            wait = as_utc(latest) + FAILURE_WINDOW - now
            raise TooManyFailures(max(1, int(wait.total_seconds() // 60) + 1))


def failures_before_this_log_in(name: str) -> int:
    """Failed log-ins for this name between its last two good ones: told to the agent who just
    logged in, who may not have made them."""
    with get_db().reading() as session:
        good = session.scalars(
            select(LoginAttempt.at).where(LoginAttempt.name == name, LoginAttempt.ok).order_by(LoginAttempt.at.desc())
        ).all()[:2]
        if not good:
            return 0
        query = select(func.count()).where(
            LoginAttempt.name == name, LoginAttempt.ok.is_(False), LoginAttempt.at < good[0]
        )
        if len(good) == 2:
            query = query.where(LoginAttempt.at > good[1])
        return int(session.scalar(query) or 0)


# API clients (integrations) send an agent's API token as a Bearer token with every request. It is
# 256 random bits, so its SHA-256 is kept, and checking one costs a hash of microseconds and one read
# of an indexed column: nothing slow in the workers that answer calls, nothing kept in memory. The
# agent's password never goes to an integration.
TOKEN_PREFIX = "ivr_"


def new_api_token(agent: Agent) -> str:
    """A new token for the agent (the caller commits), replacing any earlier one: shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    agent.api_token_hash = _token_hash(token)
    return token


def verify_token(token: str) -> AgentUser | None:
    """The enabled agent whose token this is, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    presented = _token_hash(token)
    with get_db().reading() as session:
        found = session.execute(
            select(Agent.id, Agent.name, Agent.session_generation, Agent.api_token_hash, Agent.role).where(
                Agent.api_token_hash == presented, Agent.disabled.is_(False)
            )
        ).first()
    if found is None or not hmac.compare_digest(found.api_token_hash or "", presented):
        return None
    return AgentUser(found.id, found.name, found.session_generation, found.role)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@login_manager.user_loader
def _load(user_id: str) -> AgentUser | None:
    """The session's agent, while the agent is enabled and the session's generation is current."""
    found = re.fullmatch(r"([0-9]{1,9})\.([0-9]{1,9})", user_id)
    if found is None:
        return None
    with get_db().reading() as session:
        agent = session.get(Agent, int(found.group(1)))
        if agent is None or agent.disabled or agent.session_generation != int(found.group(2)):
            return None
        return AgentUser(agent.id, agent.name, agent.session_generation, agent.role)


@login_manager.request_loader
def _from_api_token(req) -> AgentUser | None:  # type: ignore[no-untyped-def]
    """API clients send `Authorization: Bearer <token>` with every request."""
    credentials = req.authorization
    if credentials is None or credentials.type != "bearer" or not req.path.startswith("/agent/api/"):
        return None
    user = verify_token(credentials.token or "")
    if user is None:
        log.warning("an API request with an unknown token from %s", clean(req.remote_addr or "")[:64])
    return user


@login_manager.unauthorized_handler
def _refuse():  # type: ignore[no-untyped-def]
    if request.path.startswith("/agent/api/") or request.path.endswith("/audio"):
        response = jsonify(error="log in first (or send an agent's API token: Authorization: Bearer <token>)")
        response.status_code = 401
        if request.path.startswith("/agent/api/"):
            response.headers["WWW-Authenticate"] = 'Bearer realm="IVR agents"'
        return response
    return redirect(url_for("agents.login", next=request.full_path.rstrip("?")))


class AgentSessions(SecureCookieSessionInterface):
    """Cookie sessions for the agents' pages and the help centre's (whose message form carries a CSRF
    token) only: Twilio's webhooks never carry one, and opening and saving a signed cookie on every
    call step cost a tenth of the step."""

    def open_session(self, app, request):  # type: ignore[no-untyped-def]
        if not request.path.startswith(("/agent", "/help")):
            return self.make_null_session(app)
        return super().open_session(app, request)
