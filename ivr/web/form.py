"""The message form's own values: a fresh id for each form (the same form sent twice is one message)
and its CSRF token, which needs the server's secret key."""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app
from flask_wtf.csrf import generate_csrf


def form(values: dict[str, str] | None = None) -> dict[str, Any]:
    """What the form needs: its values, its id and CSRF token; no token without a secret key."""
    values = values or {}
    token = generate_csrf() if current_app.config.get("SECRET_KEY") else None
    return {"values": values, "form_id": values.get("form_id") or secrets.token_urlsafe(24), "csrf": token}
