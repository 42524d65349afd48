"""The agents' side (/agent): log in, work through the voice messages, and a JSON API for integrations.

Sessions are Flask-Login's, in a signed cookie that is HttpOnly, SameSite=Lax and Secure behind
https; every form carries Flask-WTF's CSRF token. The API also takes an agent's name and password as
HTTP Basic credentials (no cookie, so no CSRF token needed).
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from flask import Flask, jsonify, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from ivr.db import get_db
from ivr.models import Agent, LoginAttempt
from ivr.security import clean

log = logging.getLogger(__name__)
login_manager = LoginManager()
csrf = CSRFProtect()


class AgentUser(UserMixin):
    """The logged-in agent, as Flask-Login keeps it: the session holds the id and the generation."""

    def __init__(self, agent_id: int, name: str, generation: int = 0) -> None:
        self.id = agent_id
        self.name = name
        self.generation = generation

    def get_id(self) -> str:
        return f"{self.id}.{self.generation}"


def end_sessions(agent: Agent) -> None:
    """Every session of this agent ends (the caller commits): log-out, a new password, disabling."""
    agent.session_generation = (agent.session_generation or 0) + 1


# After this many failed log-ins for one name within the window, that name is refused until the
# window has passed since the last failure (guessing passwords stops being worth it).
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)


class TooManyFailures(Exception):
    def __init__(self, minutes: int) -> None:
        super().__init__(f"Too many failed log-ins for this name. Try again in {minutes} minutes.")


def verify(name: str, password: str, address: str = "") -> AgentUser | None:
    """The agent with these credentials, or None; every attempt is recorded, never the password.

    Raises TooManyFailures while the name is throttled (even the right password waits)."""
    now = dt.datetime.now(dt.UTC)
    name = clean(name)[:80]  # stored with the attempt: no control characters, no NUL
    with get_db().reading() as session:
        last_ok = session.scalar(select(func.max(LoginAttempt.at)).where(LoginAttempt.name == name, LoginAttempt.ok))
        since = max(now - FAILURE_WINDOW, _aware(last_ok) if last_ok else now - FAILURE_WINDOW)
        failures, latest = session.execute(
            select(func.count(), func.max(LoginAttempt.at)).where(
                LoginAttempt.name == name, LoginAttempt.ok.is_(False), LoginAttempt.at > since
            )
        ).one()
        if failures >= MAX_FAILURES and latest is not None:
            wait = _aware(latest) + FAILURE_WINDOW - now
            raise TooManyFailures(max(1, int(wait.total_seconds() // 60) + 1))
        agent = session.scalar(select(Agent).where(Agent.name == name))
        ok = agent is not None and check_password_hash(agent.password_hash, password) and not agent.disabled
        user = AgentUser(agent.id, agent.name, agent.session_generation) if ok and agent is not None else None
    with get_db().transaction() as session:
        session.add(LoginAttempt(name=name, address=address[:64], at=now, ok=ok))
    if not ok:
        log.warning("failed agent log-in for %r from %s", name, address)
    return user


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


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
        return AgentUser(agent.id, agent.name, agent.session_generation)


@login_manager.request_loader
def _from_basic_auth(req) -> AgentUser | None:  # type: ignore[no-untyped-def]
    """API clients send HTTP Basic credentials with every request."""
    credentials = req.authorization
    if credentials is None or not req.path.startswith("/agent/api/"):
        return None
    try:
        return verify(credentials.username or "", credentials.password or "", req.remote_addr or "")
    except TooManyFailures:
        return None


@login_manager.unauthorized_handler
def _refuse():  # type: ignore[no-untyped-def]
    if request.path.startswith("/agent/api/") or request.path.endswith("/audio"):
        response = jsonify(error="log in first (or send an agent's name and password as HTTP Basic credentials)")
        response.status_code = 401
        if request.path.startswith("/agent/api/"):
            response.headers["WWW-Authenticate"] = 'Basic realm="IVR agents"'
        return response
    return redirect(url_for("agents.login", next=request.full_path.rstrip("?")))


class AgentSessions(SecureCookieSessionInterface):
    """Cookie sessions for the agents' pages only: Twilio's webhooks never carry one, and opening
    and saving a signed cookie on every call step cost a tenth of the step."""

    def open_session(self, app, request):  # type: ignore[no-untyped-def]
        if not request.path.startswith("/agent"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    from ivr.agents import api, views

    secure = str(app.config.get("SECURE_COOKIES", "auto")).lower()
    https = str(app.config.get("PUBLIC_URL", "")).startswith("https://")
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https if secure == "auto" else secure in ("1", "true", "yes", "on"),
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        # CSRF is checked by the agents' blueprints (views.py, api.py), not on every request.
        WTF_CSRF_CHECK_DEFAULT=False,
    )
    app.session_interface = AgentSessions()
    if not app.config.get("SECRET_KEY"):
        log.warning("IVR_SECRET_KEY is not set: agents cannot log in (make run writes one to .env)")
    login_manager.init_app(app)
    csrf.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    app.extensions.setdefault("ivr.twilio_http", None)
