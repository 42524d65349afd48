"""Who may use the agents' desk: log-ins (throttled: throttle.py), sessions, API tokens.

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

from flask import current_app, jsonify, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ivr.agents import throttle
from ivr.db import get_db
from ivr.headers import secure_cookies
from ivr.models import Agent, LoginAttempt
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
        # Set by a log-in: failed log-ins for the name since the last good one; this browser's device cookie.
        self.failed_before = 0
        self.device = ""

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"

    def get_id(self) -> str:
        return f"{self.id}.{self.generation}"


def end_sessions(agent: Agent) -> None:
    """Every session of this agent ends (the caller commits): log-out, a new password, disabling."""
    agent.session_generation = (agent.session_generation or 0) + 1


@functools.lru_cache(maxsize=1)
def _no_agents_hash() -> str:
    """Checked for a name no agent has, so that an unknown name takes as long as a known one."""
    return generate_password_hash(secrets.token_hex(16))


def verify(
    name: str, password: str, address: str = "", device_cookie: str = "", now: dt.datetime | None = None
) -> AgentUser | None:
    """The agent with these credentials, or None; every attempt that is checked is recorded, never the
    password.

    Raises TooManyFailures while the attempt must wait, and Busy while this host checks as many
    passwords as it may at once (throttle.py): both before any password hash or write, so that a
    flood costs little. The agent's known device (its cookie) and the addresses the agent has
    logged in from lately are spared the crowd's waits. A checked attempt is written (as failed) in the same transaction that counts
    the earlier ones, before the password is checked, so guesses sent at once are counted one after
    another. The agent who gets in is told the failures for their name since their last log-in
    (`failed_before`) and gets a known-device cookie for this browser (`device`)."""
    now = now or dt.datetime.now(dt.UTC)
    name, address = clean(name)[:80], clean(address)[:64]  # stored with the attempt
    settings = current_app.config
    secret = str(settings.get("SECRET_KEY") or "")
    with get_db().reading() as session:  # a refusal takes no write lock
        found = session.execute(select(Agent.id, Agent.known_addresses).where(Agent.name == name)).first()
        device = throttle.known_device(secret, device_cookie, found.id if found else None)
        known_here = bool(found and address and address in (found.known_addresses or []))
        throttle.refuse_if_waiting(session, name, address, device, now, known_here)
    with throttle.password_check(settings["DATA_DIR"], known=bool(device) or known_here):
        with get_db().transaction() as session:
            agent = session.scalar(select(Agent).where(Agent.name == name).with_for_update())
            throttle.refuse_if_waiting(session, name, address, device, now, known_here)  # counted in turn
            attempt = LoginAttempt(name=name, address=address, device=device, at=now, ok=False)
            session.add(attempt)
            if agent is not None:
                agent.failed_log_ins = (agent.failed_log_ins or 0) + 1  # until the password is found right
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
        agent = session.get(Agent, known[0], with_for_update=True)
        failed_before = max((agent.failed_log_ins or 1) - 1, 0) if agent else 0
        if agent is not None:
            agent.failed_log_ins = 0
            agent.known_addresses = throttle.known_addresses(agent.known_addresses, address)
    user = AgentUser(known[0], known[1], known[4], known[5])
    user.failed_before = failed_before
    user.device = throttle.device_cookie(secret, known[0], device or throttle.new_device())
    return user


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

    def get_cookie_secure(self, app) -> bool:  # type: ignore[no-untyped-def]
        return secure_cookies()

    def open_session(self, app, request):  # type: ignore[no-untyped-def]
        if not request.path.startswith(("/agent", "/help")):
            return self.make_null_session(app)
        return super().open_session(app, request)
