"""The agents' pages: log in, the queue, one message (listen, read, claim, note, call back, done)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import logging
from urllib.parse import urlsplit

import phonenumbers
import soundfile
from babel.dates import format_date, format_datetime, format_time
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFError

from ivr import caller_id
from ivr.agents import callback, contacts, queue, team, throttle
from ivr.agents.auth import csrf, end_sessions, verify
from ivr.agents.story import place, story
from ivr.agents.throttle import TooManyFailures
from ivr.db import get_db
from ivr.flows import graph
from ivr.flows.nodes import WAITING
from ivr.headers import secure_cookies
from ivr.languages import line_languages
from ivr.messages import audio_store, callbacks, reply
from ivr.messages.words import (
    REASONS,
    language_name,
    no_model_note,
    transcript_uncertain,
    transcript_words,
)
from ivr.models import Agent, Message, as_utc
from ivr.security import clean

log = logging.getLogger(__name__)
bp = Blueprint("agents", __name__, url_prefix="/agent", template_folder="templates", static_folder="static")
# The agents' pages are in English (the callers' language is the line's, issue 17).
AGENTS_LOCALE = "en_US"
DRAFT = "agent_note_draft"  # a note kept across a log-in, so an expired session loses nothing
REPLY_DRAFT = "agent_reply_draft"  # an answer that could not be sent, shown again
# "Before this" and "since then" in full (?contacts=all): the most shown.
ALL_CONTACTS = 500


@bp.app_context_processor
def _helpers() -> dict[str, object]:
    return {"story": story, "place": place, "icon": _icon, "shows_language": _shows_language,
            "no_model_note": no_model_note}  # fmt: skip


def _shows_language(code: str) -> bool:
    """A message's language is shown where the line speaks several, or where it is not the line's one."""
    offered = line_languages(current_app.config)
    return len(offered) > 1 or code != offered[0]


@bp.app_template_filter("language")
def _language(code: str) -> str:
    """A language by its name in the pages' language: "Latvian" for lv-LV."""
    return language_name(code, AGENTS_LOCALE)


def _icon(waiting: int) -> str:
    """The tab's icon: how many new messages wait, on red; a plain mark when none do."""
    said = "99+" if waiting > 99 else str(waiting) if waiting else "✉"
    fill = "#cf222e" if waiting else "#1f3a5f"
    size = 14 if len(said) > 2 else 18
    return (f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'><rect width='32' height='32' rx='7'"
            f" fill='{fill}'/><text x='16' y='22' font-size='{size}' font-family='sans-serif' font-weight='700'"
            f" text-anchor='middle' fill='white'>{said}</text></svg>")  # fmt: skip


@bp.app_template_filter("reason")
def _reason(reason: str) -> str:
    return REASONS.get(reason, reason or "unknown")


@bp.app_template_filter("heard")
def _heard(words: object) -> list[tuple[str, bool]]:
    """A transcript's words, each with whether the recogniser was unsure of it (shown grey)."""
    return [(word, unsure) for word, _, unsure in transcript_words(words)]


@bp.app_template_test("uncertain")
def _uncertain(words: object) -> bool:
    """Most words unsure: the page says "transcript uncertain" rather than showing noise as fact."""
    return transcript_uncertain(words)


def now() -> dt.datetime:
    """The real clock, which stamps what agents do and read (one place, so a test can fix it)."""
    return dt.datetime.now(dt.UTC)


@bp.app_template_filter("when")
def _when(moment: dt.datetime, zoned: bool = False) -> str:
    """In the line's time zone, as the team reads the clock: "today 12:26", "yesterday 09:05",
    "Sat 28 Nov, 12:26" (Babel's CLDR data); `zoned` adds the zone ("12:26 EST") where it matters."""
    hours = current_app.extensions["ivr.hours"]
    local = hours.local(as_utc(moment))
    today = hours.local(now()).date()
    time = format_time(local, "HH:mm", locale=AGENTS_LOCALE)
    days = (today - local.date()).days
    day = {0: "today", 1: "yesterday"}.get(days) or format_date(
        local, "EEE d MMM" if abs(days) < 300 else "EEE d MMM y", locale=AGENTS_LOCALE
    ) + ","
    zone = " " + format_datetime(local, "zzz", locale=AGENTS_LOCALE) if zoned else ""
    return f"{day} {time}{zone}"


@bp.app_template_filter("zone")
def _zone(_unused: object = None) -> str:
    """The line's time zone as agents know it ("EST"), for a page that shows times."""
    return format_datetime(
        current_app.extensions["ivr.hours"].local(dt.datetime.now(dt.UTC)), "zzz", locale=AGENTS_LOCALE
    )


@bp.app_template_filter("utc")
def _utc(moment: dt.datetime) -> dt.datetime:
    return as_utc(moment)


@bp.app_template_filter("waited")
def _waited(delta: dt.timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)  # a message "from the future": a fixed test clock
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours < 48 else f"{hours // 24} days"


@bp.app_template_filter("hours")
def _hours(hours: float | None) -> str:
    """A time to close as people say it: minutes below an hour ("12 min"), else hours ("2.5 h")."""
    if hours is None:
        return "—"
    if hours < 1:
        return f"{max(round(hours * 60), 1)} min"
    return f"{hours:.1f} h"


@bp.app_template_filter("phone")
def _phone(number: str | None) -> str:
    """A phone number as people write it: the line's own country's in its national format ("(555)
    010-0001"), any other in the international one ("+44 20 7946 0000"); what is not a number as is."""
    if not number:
        return ""
    if number in caller_id.HIDDEN:
        return "number hidden"
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    home = _country(str(current_app.config.get("PHONE_NUMBER") or ""))
    form = phonenumbers.PhoneNumberFormat
    same = parsed.country_code == phonenumbers.country_code_for_region(home)
    return phonenumbers.format_number(parsed, form.NATIONAL if same else form.INTERNATIONAL)


@functools.lru_cache(maxsize=8)
def _country(own_number: str) -> str:
    """The line's country: its own number's (IVR_PHONE_NUMBER), else the United States. Worked out
    once, not for every number on a page."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(own_number, None)) or "US"
    except phonenumbers.NumberParseException:
        return "US"


@bp.before_request
def _csrf() -> None:
    """Every form the pages send carries the CSRF token (Twilio's webhooks are signed instead)."""
    if request.method == "POST":
        csrf.protect()


def _agent(db_session) -> Agent:  # type: ignore[no-untyped-def]
    agent = db_session.get(Agent, current_user.id)
    if agent is None:
        abort(403)
    return agent


def _safe_next(target: str | None) -> str:
    """Only paths on this site (no open redirects)."""
    if (
        target
        and target.startswith("/agent")
        and target.isprintable()
        and "\\" not in target
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("agents.queue_page")


_warned_about_proxy = False


def _warn_if_behind_an_unnamed_proxy() -> None:
    """Once per process: log-ins come through a proxy that IVR_PROXY_HOPS does not name, so every one
    seems to come from the proxy's address and per-address waits (throttle.py) fall on everyone."""
    global _warned_about_proxy
    if not _warned_about_proxy and request.headers.get("X-Forwarded-For") and not current_app.config["PROXY_HOPS"]:
        _warned_about_proxy = True
        log.warning("log-ins arrive through a proxy (X-Forwarded-For) but IVR_PROXY_HOPS is 0: every log-in"
                    " seems to come from %s, so one address's waits fall on every agent; set IVR_PROXY_HOPS",
                    clean(request.remote_addr or "")[:64])  # fmt: skip


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    status, headers = (401 if request.method == "POST" else 200), {}
    if request.method == "POST":
        if not current_app.config.get("SECRET_KEY"):
            flash("Logging in needs IVR_SECRET_KEY to be set on the server.", "error")
        else:
            _warn_if_behind_an_unnamed_proxy()
            try:
                user = verify(request.form.get("name", ""), request.form.get("password", ""),
                              request.remote_addr or "", request.cookies.get(throttle.COOKIE, ""))  # fmt: skip
            except TooManyFailures as refusal:
                flash(str(refusal), "error")
                status, headers = 429, {"Retry-After": str(refusal.seconds)}
            except throttle.Busy as busy:
                flash(str(busy), "error")
                status, headers = 503, {"Retry-After": "1"}
            else:
                if user is not None:
                    session.clear()
                    login_user(user)
                    if user.failed_before:
                        flash(f"There were {user.failed_before} failed log-ins for your name since you last logged in.",
                              "error")  # fmt: skip
                    draft = request.form.get("draft", "")
                    if draft:
                        session[DRAFT] = draft
                    response = redirect(_safe_next(request.form.get("next")))
                    # This browser is the agent's known device from now on: a crowd's guesses never make it wait.
                    response.set_cookie(throttle.COOKIE, user.device, max_age=throttle.COOKIE_DAYS * 86400,
                                        path="/agent", secure=secure_cookies(), httponly=True, samesite="Lax")  # fmt: skip
                    return response
                flash("That name and password do not match an agent.", "error")
    return (
        render_template(
            "agent/login.html",
            next=request.values.get("next", ""),
            draft=request.form.get("draft", ""),
            name=request.form.get("name", "")[:80],  # kept after a failed log-in; the password never is
        ),
        status,
        headers,
    )


@bp.post("/logout")
@login_required
def logout():  # type: ignore[no-untyped-def]
    """Log-out ends every session of the agent (another browser, a stolen cookie), not only this one."""
    with get_db().transaction() as db:
        agent = db.get(Agent, current_user.id)
        if agent is not None:
            end_sessions(agent)
    logout_user()
    session.clear()
    return redirect(url_for("agents.login"))


@bp.get("/")
@login_required
def queue_page():  # type: ignore[no-untyped-def]
    show = request.args.get("show", "open")
    search = request.args.get("q", "")[:200]
    page = request.args.get("page", "1")
    language = request.args.get("language", "")
    held_by = request.args.get("held_by", "")
    if show not in queue.FILTERS:
        show = "open"
    moment = now()
    with get_db().reading() as db:
        etag = _page_version(db)
        if _live_request() and request.if_none_match.contains(etag):
            return _not_modified()
        languages = queue.languages(db, current_app.config)
        if language not in languages:  # anything else shows every language, and is never shown back
            language = ""
        people = team.colleagues(db)
        holder = next((a for a in people if a.name == held_by), None)  # anyone else: every holder
        held_by = holder.name if holder else ""
        found = queue.listing(
            db,
            show,
            current_user.id,
            search,
            queue.page_number(page),
            language,
            (current_app.config, current_app.extensions.get("ivr.catalog")),
            holder.id if holder else None,
            moment,
        )
        after = _stale_after()
        callers = queue.callers_of(db, found.messages)
        rows = [(m, callers[m.id], m.assignee.name if m.assignee else "", queue.claim_is_stale(m, moment, after))
                for m in found.messages]  # fmt: skip
        return _live(
            etag,
            render_template(
                "agent/queue.html",
                live_etag=etag,
                rows=rows,
                show=show,
                search=search,
                language=language,
                languages=languages,
                held_by=held_by,
                people=[a.name for a in people],
                found=found,
                counts=found.counts,
                overall=queue.counts(db, current_user.id) if found.searched or language or holder else found.counts,
                oldest=queue.oldest_waiting(db, moment),
                due=queue.callbacks_due(db, moment),
                now=moment,
                filters=queue.FILTERS,
            ),
        )


@bp.get("/messages/<int:message_id>")
@login_required
def message_page(message_id: int):  # type: ignore[no-untyped-def]
    with get_db().reading() as db:
        try:
            message = queue.get(db, message_id)
        except queue.QueueError:
            abort(404)
        etag = _page_version(db)
        if _live_request() and request.if_none_match.contains(etag):
            return _not_modified()
        agent = _agent(db)
        who = queue.caller_of(db, message)
        moment = now()
        return _live(
            etag,
            render_template(
                "agent/message.html",
                live_etag=etag,
                message=message,
                who=who,
                mine=message.assignee_id == agent.id,
                stale=queue.claim_is_stale(message, moment, _stale_after()),
                now=moment,
                callback_due=callbacks.is_due(message, moment),
                callback_on_time=callbacks.on_time(message),
                results=callbacks.RESULTS,
                earlier=contacts.earlier(
                    db, message, who.customer, ALL_CONTACTS if request.args.get("contacts") == "all" else contacts.SHOWN
                ),
                colleagues=[a.name for a in team.colleagues(db)] if current_user.supervisor else [],
                ordinal=contacts.ordinal,
                orders=queue.orders_of(db, who.customer),
                order_given=queue.order_given(db, message),
                heard=queue.version_heard(db, message),
                notes=[(n, n.agent.name) for n in message.notes],
                history=[(h, h.agent.name if h.agent else "system") for h in message.history],
                assignee=message.assignee.name if message.assignee else "",
                click_to_call=callback.hint(current_app.config, agent),
                draft="" if _live_request() else session.pop(DRAFT, ""),
                reply_draft="" if _live_request() else session.pop(REPLY_DRAFT, ""),
                cannot_reply=reply.can_reply(message, current_app.config),
                confirm_done=request.args.get("confirm") == "done" and message.status == "new",
                next_new=queue.next_new(db, message.id, moment) if message.status == "done" else None,
            ),
        )


@bp.get("/team")
@login_required
def team_page():  # type: ignore[no-untyped-def]
    """Supervisors: everyone's workload today, and what waits unclaimed."""
    if not current_user.supervisor:
        return render_template("agent/refused.html", why="The team page is for supervisors."), 403
    now = dt.datetime.now(dt.UTC)
    with get_db().reading() as db:
        etag = _page_version(db)
        if _live_request() and request.if_none_match.contains(etag):
            return _not_modified()
        return _live(
            etag,
            render_template(
                "agent/team.html",
                live_etag=etag,
                people=team.workload(db, team.day_starts(current_app.extensions["ivr.hours"], now)),
                counts=queue.counts(db, current_user.id),
                oldest=queue.oldest_waiting(db, now),
                now=now,
                stale_after=_stale_after(),
            ),
        )


def _stale_after() -> dt.timedelta:
    return dt.timedelta(hours=current_app.config["CLAIM_STALE_HOURS"])


def _page_version(db) -> str:  # type: ignore[no-untyped-def]
    """A queue, message or team page's ETag: what it shows changes with any message (one index
    lookup), with the minute (times are said as "waited 5 min"), and with who looks at what. An open
    page asks with it every IVR_LIVE_SECONDS (static/live.js) and is answered 304 while it holds."""
    minute = int(dt.datetime.now(dt.UTC).timestamp() // 60)
    seen = f"{queue.version(db, now())}|{minute}|{current_user.id}|{current_user.supervisor}|{request.full_path}"
    return hashlib.sha256(seen.encode()).hexdigest()[:32]


def _live(etag: str, page: str) -> Response:
    """`page` with its ETag, checked again by the browser each time it asks (nothing cached as is)."""
    response = current_app.make_response(page)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _live_request() -> bool:
    """Whether live.js asks (not a person opening the page): only it is answered 304, and it never
    takes the flashed messages or a kept note meant for the page a person opens next."""
    return request.headers.get("X-Requested-With") == "live"


def _not_modified() -> Response:
    return current_app.response_class(status=304, headers={"Cache-Control": "private, no-cache"})


@bp.get("/flows")
@login_required
def flows_page():  # type: ignore[no-untyped-def]
    """Supervisors: the call flows, a diagram per branch, as `flows graph --format svg` draws them."""
    if not current_user.supervisor:
        return render_template("agent/refused.html", why="The call flow diagrams are for supervisors."), 403
    flow = current_app.extensions["ivr.engine"].flow
    return render_template(
        "agent/flows.html", branches=graph.branches(flow).values(), drawable=graph.dot_installed(),
        missing=graph.DOT_MISSING, waiting=sum(isinstance(node, WAITING) for node in flow.nodes.values()),
    )  # fmt: skip


@bp.get("/flows.svg", defaults={"branch": None})
@bp.get("/flows/<branch>.svg")
@login_required
def flow_diagram(branch: str | None):  # type: ignore[no-untyped-def]
    """One branch's diagram (or all branches'), as SVG for an <img>: drawn once per flow, kept."""
    if not current_user.supervisor:
        abort(403)
    engine = current_app.extensions["ivr.engine"]
    if branch is not None and branch not in graph.branches(engine.flow):
        abort(404)
    drawn = current_app.extensions.setdefault("ivr.flow_diagrams", {})
    flow, svg = drawn.get(branch, (None, b""))
    if flow is not engine.flow:
        try:
            svg = graph.svg(graph.diagram(engine.flow, branch, engine.max_retries))
        except graph.DotMissing as missing:
            return Response(f"{missing}\n", status=503, mimetype="text/plain")
        drawn[branch] = (engine.flow, svg)
    # Opened on its own, the drawing runs nothing and is never taken for another type.
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=300",
               "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"}  # fmt: skip
    return Response(svg, mimetype="image/svg+xml", headers=headers)


@bp.get("/messages/<int:message_id>/audio")
@login_required
def audio(message_id: int):  # type: ignore[no-untyped-def]
    """The stored copy, as 16-bit PCM WAV (browsers do not all play telephone mu-law)."""
    with get_db().reading() as db:
        message = db.get(Message, message_id)
        if message is None or message.audio_status != "stored" or not message.audio_path:
            abort(404)
        name = message.audio_path
    data = audio_store.for_line(current_app.config, get_db()).read(name)  # only a copy the worker named
    if data is None:
        abort(404)
    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="int16")
    except (OSError, RuntimeError, soundfile.LibsndfileError):
        abort(404)
    out = io.BytesIO()
    soundfile.write(out, samples, rate, subtype="PCM_16", format="WAV")
    return Response(out.getvalue(), mimetype="audio/wav", headers={"Cache-Control": "private, max-age=3600"})


def _act(message_id: int, action: str):  # type: ignore[no-untyped-def]
    """Run a queue action for the logged-in agent; its refusal is shown, and nothing is lost."""
    note = request.form.get("text", "")
    try:
        with get_db().transaction() as db:
            agent = _agent(db)
            if action == "claim":
                queue.claim(db, message_id, agent)
                flash("You have claimed this message.", "ok")
            elif action == "take_over":
                queue.take_over(db, message_id, agent)
                flash("You have taken this message over; it is yours now.", "ok")
            elif action == "reassign":
                to = request.form.get("to", "")
                team.reassign(db, message_id, agent, to)
                flash(f"Given to {to}.", "ok")
            elif action == "note":
                queue.add_note(db, message_id, agent, note)
                flash("Note added.", "ok")
            elif action == "done":
                if queue.get(db, message_id).status == "new" and request.form.get("unread") != "yes":
                    # Nobody has claimed it, so perhaps nobody has read it: asked once, on its page.
                    return redirect(url_for("agents.message_page", message_id=message_id, confirm="done"))
                queue.mark_done(db, message_id, agent)
                flash("Marked done.", "ok")
            elif action == "reopen":
                queue.reopen(db, message_id, agent)
                flash("Reopened; it is yours now.", "ok")
            elif action == "call":
                message = queue.calling_back(db, message_id, agent)
                number = queue.number_to_call(message)
                sid = callback.call_back(
                    current_app.config, current_app.extensions.get("ivr.twilio_http"), agent, number
                )
                queue.note_called_back(db, message_id, agent, f"click-to-call {sid}")
                flash(f"Calling your phone ({agent.phone}); answer it to be connected to {number}.", "ok")
            elif action == "callback":
                line = (current_app.config, current_app.extensions["ivr.hours"])
                result, again = request.form.get("result", ""), request.form.get("again", "")[:40]
                queue.callback_result(db, message_id, agent, result, line, again, now())
                due = queue.get(db, message_id).callback_due_at
                then = f"the next call is due {_when(due, True)}" if due else "closed"
                flash(f"Recorded: {callbacks.RESULTS[result]}; {then}.", "ok")
    except (queue.QueueError, callback.CallBackError) as error:
        flash(str(error), "error")
        if action == "note":
            session[DRAFT] = note  # shown again in the form
        if isinstance(error, callback.CallBackError):  # a call that failed is in the history too
            with get_db().transaction() as db:
                queue.note_call_failed(db, message_id, _agent(db), str(error))
    return redirect(url_for("agents.message_page", message_id=message_id))


@bp.post("/messages/<int:message_id>/reply")
@login_required
def reply_by_email(message_id: int):  # type: ignore[no-untyped-def]
    """Answer a message written on the help centre by e-mail; what was sent goes in its history."""
    text = queue.NOT_TEXT.sub("", request.form.get("reply", "").replace("\r\n", "\n")).strip()
    try:
        with get_db().reading() as db:
            message = queue.get(db, message_id)
            agent = _agent(db)
            queue.must_hold(message, agent, "answer it")
            db.expunge(message)
        reply.send(message, text, agent.name, current_app.config)
        with get_db().transaction() as db:
            queue.note_replied(db, message_id, _agent(db), text)
        flash(f"Your answer was sent to {message.contact_email}.", "ok")
    except (queue.QueueError, reply.NotSent) as error:
        flash(str(error), "error")
        session[REPLY_DRAFT] = text  # shown again in the form
    return redirect(url_for("agents.message_page", message_id=message_id))


@bp.post("/messages/<int:message_id>/<any(claim, take_over, reassign, note, done, reopen, call, callback):action>")
@login_required
def act(message_id: int, action: str):  # type: ignore[no-untyped-def]
    return _act(message_id, action)


@bp.errorhandler(404)
def not_found(_error: Exception):  # type: ignore[no-untyped-def]
    """A message that is not there, in the desk's own layout with a way back (the API answers JSON)."""
    return render_template("agent/missing.html"), 404


@bp.errorhandler(500)
def went_wrong(_error: Exception):  # type: ignore[no-untyped-def]
    """An error on a desk page, said plainly in the desk's layout with a way back."""
    return render_template("agent/missing.html", broken=True), 500


@bp.app_errorhandler(CSRFError)
def csrf_refused(error: CSRFError):  # type: ignore[no-untyped-def]
    """A form from an expired session: ask to log in again, keeping any note that was typed."""
    if request.path.startswith("/agent/api/"):
        return jsonify(error="this request comes with a session cookie but without its X-CSRFToken header "
                       "(API clients send an API token and no cookie)"), 400  # fmt: skip
    flash("Your session has expired. Please log in again; your note is kept.", "error")
    return render_template(
        "agent/login.html", next=request.path.rsplit("/", 1)[0], draft=request.form.get("text", "")
    ), 400
