"""The agents' desk (/agent), a channel at the edge: the queue of voice messages, the team, the
supervisors' insights and a JSON API for integrations. Who may log in is auth.py's; the pages are
views.py's (entries.py and insights.py add theirs to its blueprint), the API api.py's."""

from __future__ import annotations

import logging

from flask import Flask

from ivr.agents import api, entries, experiments, insights, views  # noqa: F401 (they add pages to views.bp)
from ivr.agents.auth import AgentSessions, csrf, login_manager

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
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
