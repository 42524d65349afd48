"""The JSON API (/agent/api): the queue's data and actions, for integrations.

Authenticate with an agent's API token (`flask --app wsgi agents token NAME`) as
`Authorization: Bearer <token>`, or with the logged-in session of the pages (then POSTs need the
X-CSRFToken header, as the pages' forms carry it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException

from ivr.agents import callback, queue, team
from ivr.agents import insights as insights_page
from ivr.agents.auth import csrf
from ivr.db import get_db
from ivr.insights import figures
from ivr.models import Agent

log = logging.getLogger(__name__)
bp = Blueprint("agents_api", __name__, url_prefix="/agent/api")
# Changes when the listing's JSON does, so that no client keeps a body of an older shape.
ETAG_FORMAT = 4


@bp.before_request
def _csrf_unless_an_api_client() -> None:
    """A POST goes without the CSRF token only from an API client: a Bearer token (checked by
    login_required; a browser never sends one on its own) and no cookie of a browser session."""
    if request.method == "POST" and not _api_client():
        csrf.protect()


def _api_client() -> bool:
    config = current_app.config
    cookies = (config.get("SESSION_COOKIE_NAME", "session"), config.get("REMEMBER_COOKIE_NAME", "remember_token"))
    bearer = request.authorization is not None and request.authorization.type == "bearer"
    return bearer and not any(name in request.cookies for name in cookies)


def _error(message: str, status: int):  # type: ignore[no-untyped-def]
    response = jsonify(error=message)
    response.status_code = status
    return response


@bp.get("/messages")
@login_required
def messages():  # type: ignore[no-untyped-def]
    """The queue. It carries an ETag: a client that polls sends it back in If-None-Match and, while
    no message has changed, gets 304 Not Modified, answered without reading the queue."""
    show, search = request.args.get("show", "open"), request.args.get("q", "")[:200]
    page = queue.page_number(request.args.get("page", "1"))
    language = request.args.get("language", "")
    with get_db().reading() as db:
        # Only a listing that was answered (its language checked) was given this ETag.
        etag = _queue_etag(queue.version(db), show, search, page, language)
        if request.if_none_match.contains(etag):
            response = current_app.response_class(status=304)
        else:
            languages = queue.languages(db, current_app.config)
            if language and language not in languages:  # refused without repeating what was sent
                return _error(f"there is no such language in the queue: use one of {', '.join(languages)}", 400)
            try:
                found = queue.listing(
                    db,
                    show,
                    current_user.id,
                    search,
                    page,
                    language,
                    (current_app.config, current_app.extensions.get("ivr.catalog")),
                )
            except queue.QueueError as error:
                return _error(str(error), 400)
            oldest = queue.oldest_new(db)
            callers = queue.callers_of(db, found.messages)
            response = jsonify(
                query=search,
                show=show,
                language=language or None,
                languages=languages,
                total=found.total,
                page=found.number,
                pages=found.pages,
                per_page=queue.PAGE_SIZE,
                counts=found.counts,
                oldest_waiting_since=oldest.isoformat() if oldest is not None else None,
                messages=[queue.as_dict(db, m, who=callers[m.id]) for m in found.messages],
            )
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _queue_etag(version: str, show: str, search: str, page: int, language: str) -> str:
    """Whose view of which version of the queue ("mine" and the counts depend on the agent)."""
    seen = json.dumps([version, current_user.id, show, search, page, language, ETAG_FORMAT]).encode()
    return hashlib.sha256(seen).hexdigest()[:32]


@bp.get("/messages/<int:message_id>")
@login_required
def message(message_id: int):  # type: ignore[no-untyped-def]
    with get_db().reading() as db:
        try:
            return jsonify(queue.as_dict(db, queue.get(db, message_id), full=True))
        except queue.QueueError as error:
            return _error(str(error), 404)


@bp.post("/messages/<int:message_id>/<any(claim, take_over, reassign, note, done, reopen, call, callback):action>")
@login_required
def act(message_id: int, action: str):  # type: ignore[no-untyped-def]
    payload = request.get_json(silent=True) or {}
    try:
        with get_db().transaction() as db:
            agent = db.get(Agent, current_user.id)
            assert agent is not None
            if action == "claim":
                queue.claim(db, message_id, agent)
            elif action == "take_over":
                queue.take_over(db, message_id, agent)
            elif action == "reassign":
                team.reassign(db, message_id, agent, str(payload.get("to", request.form.get("to", ""))))
            elif action == "note":
                queue.add_note(db, message_id, agent, str(payload.get("text", request.form.get("text", ""))))
            elif action == "done":
                queue.mark_done(db, message_id, agent)
            elif action == "reopen":
                queue.reopen(db, message_id, agent)
            elif action == "call":
                target = queue.calling_back(db, message_id, agent)
                sid = callback.call_back(
                    current_app.config,
                    current_app.extensions.get("ivr.twilio_http"),
                    agent,
                    queue.number_to_call(target),
                )
                queue.note_called_back(db, message_id, agent, f"click-to-call {sid}")
            elif action == "callback":  # {"result": "reached" | "no_answer" | "wrong_number", "again": "..."}
                line = (current_app.config, current_app.extensions["ivr.hours"])
                result, again = (str(payload.get(k, request.form.get(k, "")))[:40] for k in ("result", "again"))
                queue.callback_result(db, message_id, agent, result, line, again)
    except team.NotASupervisor as error:
        return _error(str(error), 403)
    except queue.QueueError as error:
        status = 404 if isinstance(error, queue.NoSuchMessage) else 400 if isinstance(error, queue.Refused) else 409
        return _error(str(error), status)
    except callback.CallBackError as error:
        with get_db().transaction() as db:
            caller = db.get(Agent, current_user.id)
            assert caller is not None
            queue.note_call_failed(db, message_id, caller, str(error))
        return _error(str(error), 502 if error.upstream else 400)
    with get_db().reading() as db:
        return jsonify(queue.as_dict(db, queue.get(db, message_id), full=True))


@bp.get("/team")
@login_required
def team_workload():  # type: ignore[no-untyped-def]
    """Supervisors: every agent's workload (what they hold, how stale, done since midnight)."""
    if not current_user.supervisor:
        return _error("the team's workload is for supervisors", 403)
    now = dt.datetime.now(dt.UTC)
    with get_db().reading() as db:
        people = team.workload(db, team.day_starts(current_app.extensions["ivr.hours"], now))
        oldest = queue.oldest_new(db)
        return jsonify(
            counts=queue.counts(db, current_user.id),
            oldest_waiting_since=oldest.isoformat() if oldest else None,
            agents=[{"name": p.name, "role": p.role, "holding": p.holding, "done_today": p.done_today,
                     "oldest_touch": queue.iso(p.oldest_touch) if p.oldest_touch else None} for p in people],
        )  # fmt: skip


@bp.get("/insights")
@login_required
def insights():  # type: ignore[no-untyped-def]
    """Supervisors: the figures of a period in the line's time zone (ivr/insights/figures.py), as the
    insights page shows them."""
    if not current_user.supervisor:
        return _error("the insights are for supervisors", 403)
    try:
        period = insights_page.period_of(request.args, insights_page.today())  # as the page reads it
    except insights_page.PeriodError as error:
        return _error(str(error), 400)
    with get_db().reading() as db:
        found = figures.figures(db, current_app.config, period.start, period.end, current_app.extensions["ivr.catalog"])
    return jsonify(figures.as_json(found))


@bp.route("/<path:anything>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@login_required
def unknown(anything: str):  # type: ignore[no-untyped-def]
    """Every API answer is JSON, a wrong address too."""
    return _error(
        f"there is no {request.method} /agent/api/{anything}: the API has GET messages, GET messages/ID, GET team, GET insights"
        " and POST messages/ID/ACTION (claim, take_over, reassign, note, done, reopen, call)",
        404,
    )


@bp.errorhandler(Exception)
def _failed(error: Exception):  # type: ignore[no-untyped-def]
    """An unexpected failure is JSON too (and logged with its traceback), never Flask's HTML page."""
    if isinstance(error, HTTPException):
        return _error(error.description or error.name, error.code or 500)
    log.exception("the agents' API failed on %s %s", request.method, request.path)
    return _error("something went wrong on the server; nothing was changed. Try again, or tell whoever runs it.", 500)
