"""Twilio's voice webhooks: read the input, load the call, let the engine decide, render TwiML.

Whatever happens, Twilio gets 200 text/xml with a <Response>: an error makes the caller hear a short
apology and go back to the main menu, never Twilio's "application error".
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Callable

from flask import Blueprint, Flask, Response, current_app, jsonify, request, url_for

from ivr import experiments, recordings, versions
from ivr import hours as clock
from ivr.calls import CallConnection, CallRecord, open_call, state_of
from ivr.db import get_db
from ivr.flows.actions import Say
from ivr.flows.context import Context
from ivr.flows.engine import Engine, Turn
from ivr.flows.inputs import CallerInput, DialOutcome, Keys, NoInput, Recording, Speech, Start
from ivr.flows.state import CallState
from ivr.languages import Languages
from ivr.messages.record import Recorded, record_once
from ivr.voice import twiml
from ivr.voice.signature import query_values, twilio_only, webhook_values

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/voice")

# Twilio's CallSid is "CA" + 32 hex digits; anything else is not a call we can keep state for.
CALL_SID = recordings.CALL_SID
MAX_INPUT = 500


def xml(body: str) -> Response:
    response = Response(body, status=200, content_type="text/xml; charset=utf-8")
    # Which prompts answered (file, version, when saved): the simulator shows it, so a developer
    # can tell whether the server has picked up an edit. Twilio ignores it.
    # Only to a request signed with the auth token: it names a file and when it was saved.
    catalog = current_app.extensions.get("ivr.catalog")
    if catalog is not None and request.environ.get("ivr.signed"):
        response.headers["X-IVR-Prompts"] = catalog.version(languages().default)
    return response


# Twilio's DialCallStatus values; anything else is taken as a failed transfer.
DIAL_STATUSES = {"completed", "answered", "busy", "no-answer", "failed", "canceled"}


def engine() -> Engine:
    return current_app.extensions["ivr.engine"]


def read_input(values) -> CallerInput:  # type: ignore[no-untyped-def]
    """Normalise Twilio's parameters once: a transfer's outcome, a recording, speech, keys, or nothing."""
    if values.get("DialCallStatus"):
        status = values["DialCallStatus"]
        return DialOutcome(status if status in DIAL_STATUSES else "failed")
    if values.get("RecordingUrl"):
        recorded = recording_report(values)
        if recorded is None:  # refused (logged): as if nothing had been recorded
            return Recording("", "", 0)
        return Recording(recorded.recording_url, recorded.recording_sid, recorded.duration, recorded.account_sid)
    speech = (values.get("SpeechResult") or "").strip()[:MAX_INPUT]
    if speech:
        try:
            confidence: float | None = float(values.get("Confidence", ""))
            if not 0.0 <= confidence <= 1.0:  # NaN fails this too
                confidence = None
        except ValueError:
            confidence = None
        return Speech(speech, confidence)
    digits = (values.get("Digits") or "").strip()[:MAX_INPUT]
    return Keys(digits) if digits else NoInput()


def recording_report(values: dict[str, str]) -> Recorded | None:
    """A recording Twilio reports, or None (logged) when its IDs or URL are not Twilio's own: nothing
    a request carries may choose the host the worker fetches from, with the account's credentials."""
    settings = current_app.config
    account = settings.get("TWILIO_ACCOUNT_SID") or values.get("AccountSid", "")
    url, sid, call = values.get("RecordingUrl", ""), values.get("RecordingSid", ""), values.get("CallSid", "")
    why = recordings.problem(url, account, settings)
    if why is None and not recordings.RECORDING_SID.fullmatch(sid):
        why = "the RecordingSid is not Twilio's RE + 32 hex digits"
    if why is None and recordings.sid_in(url) != sid:
        why = "the RecordingSid is not the one in the RecordingUrl"
    if why is None and not CALL_SID.fullmatch(call):
        why = "the CallSid is not Twilio's CA + 32 hex digits"
    if why is not None:
        log.warning("recording report refused, nothing will be fetched: %s (RecordingUrl %r)", why, url[:200])
        return None
    duration = values.get("RecordingDuration", "")
    seconds = int(duration) if re.fullmatch(r"[0-9]{1,6}", duration) else 0
    return Recorded(call_sid=call, recording_sid=sid, recording_url=url, duration=seconds, account_sid=account)


def languages() -> Languages:
    return current_app.extensions["ivr.languages"]


def say_text(say: Say, language: str, variants: dict[str, str] | None = None) -> str:
    """A prompt's words: the catalog's, or an experiment's variant this call hears (ivr/experiments.py)."""
    catalog = current_app.extensions["ivr.catalog"]
    variant = (variants or {}).get(f"prompt:{say.prompt}") if not say.language else None
    if variant is not None:
        try:
            return variant.format(**{**catalog.defaults, **say.values})
        except (KeyError, IndexError, ValueError, AttributeError):  # checked when started: never here
            log.error("experiment variant of %s cannot be filled in; the original is said", say.prompt)
    return catalog.text(say.language or language, say.prompt, dict(say.values))


# The TwiML of a list of actions differs between calls only by the step number in its URLs, so it is
# rendered once per distinct list and kept (a cache of pure output, not call state; bounded).
STEP_MARK = "__ivr_step__"
MAX_RENDERED = 2048


def _cache_key(actions) -> tuple:  # type: ignore[no-untyped-def]
    # A Say's values are a dict (unhashable): its prompt and values' items stand in for it.
    return tuple((Say, a.prompt, *a.values.items()) if type(a) is Say else a for a in actions)


def render(turn_state: CallState, actions) -> str:  # type: ignore[no-untyped-def]
    rendered: dict = current_app.extensions["ivr.rendered"]
    language = turn_state.language
    variants = turn_state.collected.get("variants") or {}
    key = (language, _cache_key(actions), tuple(sorted(variants.items())))
    template = rendered.get(key)
    if template is None:
        template = twiml.render(
            actions,
            lambda node: url_for("voice.step", node=node, n=STEP_MARK),
            lambda say: say_text(say, language, variants),
            current_app.config,
            recording_callback=url_for("voice.recording"),
            language=language,
            voice_for=languages().voice,
        )
        if len(rendered) >= MAX_RENDERED:
            rendered.clear()
        rendered[key] = template
    return template.replace(f"n={STEP_MARK}", f"n={turn_state.step}")


def apology(then_main_menu: bool = True) -> Response:
    """In the line's default language: said when the call (and so its language) may not be known."""
    language = languages().default
    text = current_app.extensions["ivr.catalog"].text(language, "apology")
    then = url_for("voice.main_menu") if then_main_menu else None
    return xml(twiml.apology(text, then, language, languages().voice(language)))


def context() -> Context:
    """What the flow's handlers may use in this step (made by `_contexts`, once per app)."""
    return current_app.extensions["ivr.contexts"]()


def _contexts(app: Flask) -> Callable[[], Context]:
    database = app.extensions["ivr.db"]
    return functools.partial(
        Context,
        settings=app.config,
        hours=app.extensions["ivr.hours"],
        open_session=database.read_sessions,
        open_writer=database.transaction,
        catalog=app.extensions["ivr.catalog"],
        languages=app.extensions["ivr.languages"],
    )


def always_answers(view: Callable[..., Response]) -> Callable[..., Response]:
    """Any exception in a step: log it, and let the caller hear the apology instead of an error."""

    def guarded(*args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        try:
            return view(*args, **kwargs)
        except Exception:
            log.exception("voice step %s failed; the caller hears the apology", request.path)
            return apology(then_main_menu=view.__name__ != "main_menu")

    guarded.__name__ = view.__name__
    guarded.__doc__ = view.__doc__
    return guarded


def call_sid(values: dict[str, str]) -> str | None:
    sid = values.get("CallSid", "")
    return sid if CALL_SID.fullmatch(sid) else None


def take_turn(
    calls: CallConnection,
    call: CallRecord,
    decide: Callable[[CallState, Context], Turn],
    at_node: str,
    values: dict[str, str],
) -> Response:
    """Decide the step from what was read, then save it in one short write transaction.

    Deciding (handlers' look-ups, rendering) happens outside the write lock; the save succeeds only
    if no other request saved this step meanwhile, and otherwise the caller gets that answer.
    """
    step_context = context()
    state = state_of(call)
    if call.is_new:  # the call's arms of the experiments running in its language
        experiments.assign(state, calls.experiments(state.language))
    try:
        turn = decide(state, step_context)
    finally:
        step_context.close()
    if turn.state.language != state.language:  # and of those of the language it changed to
        experiments.assign(turn.state, calls.experiments(turn.state.language))
    experiments.mark_heard(turn.state, turn.actions)
    body = render(turn.state, turn.actions)
    if calls.save_turn(call, turn, at_node, body, values.get("To", ""), heard(calls, call, turn.state.language)):
        return xml(body)
    return _replay(calls, call.call_sid)


def heard(calls: CallConnection, call: CallRecord, language: str) -> str | None:
    """The version of the line this step is heard in, at a call's first step or when its language
    changed (one small read, on the step's own connection); None: the call keeps the one it has."""
    if not call.is_new and language == call.language:
        return None
    version = versions.of(current_app.extensions.get("ivr.catalog"), language, calls.knowledge(language))
    versions.record(get_db(), version, dt.datetime.now(dt.UTC))
    return version.id


@bp.route("/incoming", methods=["POST", "GET"])
@twilio_only
@always_answers
def incoming() -> Response:
    """A new call: greet the caller and offer the main menu."""
    values = webhook_values()
    sid = call_sid(values)
    if sid is None:
        return apology(then_main_menu=False)
    # No look-up first: a call is new almost always, and if Twilio retried this request the insert
    # finds the call already there and the caller gets the answer already given.
    interpreter = engine()
    with get_db().calls.connected() as calls:
        given = languages().for_number(values.get("To", ""))
        call = open_call(
            sid, values.get("From", ""), given or languages().default, "start", by_number=given is not None
        )
        return take_turn(calls, call, lambda state, ctx: interpreter.step(state, Start(), ctx), "start", values)


@bp.route("/step/<node>", methods=["POST", "GET"])
@twilio_only
@always_answers
def step(node: str) -> Response:
    """The caller answered (or stayed silent at) the prompt of `node`."""
    values = webhook_values()
    sid = call_sid(values)
    if sid is None:
        return apology(then_main_menu=False)
    interpreter = engine()
    with get_db().calls.connected() as calls:
        call = calls.find(sid)
        if call is None:
            log.warning("step for unknown call %s at %s: back to the main menu", sid, node)
            return apology()
        expected = query_values().get("n", "")
        if call.node not in interpreter.flow.nodes:  # state left by an older deploy
            return apology()
        if node == call.node and expected == str(call.step):
            caller_input = read_input(values)
            return take_turn(calls, call, lambda state, ctx: interpreter.step(state, caller_input, ctx), node, values)
        if re.fullmatch(r"[0-9]{1,9}", expected) and int(expected) < call.step and call.last_twiml:
            # A retried or late POST of a step already answered: say the same again, advance nothing.
            return xml(call.last_twiml)
        return apology()


@bp.route("/main-menu", methods=["POST", "GET"])
@twilio_only
@always_answers
def main_menu() -> Response:
    """Where the apology leads: the main menu, for a known call or a new one."""
    values = webhook_values()
    sid = call_sid(values)
    if sid is None:
        return apology(then_main_menu=False)
    language = languages().default
    interpreter = engine()
    with get_db().calls.connected() as calls:
        call = calls.find(sid) or open_call(sid, values.get("From", ""), language, "start")
        if call.node == interpreter.flow.main_menu and call.last_twiml:
            # Already there (a retried or repeated POST of this URL, which has no step counter): the
            # same answer again, and the call does not advance.
            return xml(call.last_twiml)
        return take_turn(
            calls, call, lambda state, ctx: interpreter.enter(state, interpreter.flow.main_menu, ctx), call.node, values
        )


@bp.route("/status", methods=["POST", "GET"])
@twilio_only
def status() -> Response:
    """Twilio's call status callback: record how and when the call ended."""
    try:
        values = webhook_values()
        sid = call_sid(values)
        if sid is not None:
            duration = values.get("CallDuration", "")
            status = values.get("CallStatus", "unknown")
            get_db().calls.end(sid, status, int(duration) if re.fullmatch(r"[0-9]{1,6}", duration) else None)
    except Exception:
        log.exception("status callback failed")
    return xml(twiml.empty())


@bp.route("/recording", methods=["POST", "GET"])
@twilio_only
def recording() -> Response:
    """Twilio's recording status callback: the message is made here if the <Record> action has not
    made it yet (Twilio retries, and may post both at once to different workers: one message)."""
    try:
        values = webhook_values()
        sid = call_sid(values)
        recorded = recording_report(values) if values.get("RecordingStatus") == "completed" else None
        if recorded is not None:
            record_once(
                get_db().transaction,
                recorded,
                clock.now(current_app.config),
                current_app.config,
                current_app.extensions.get("ivr.catalog"),
            )
            get_db().calls.message_left(recorded.call_sid)
        elif values.get("RecordingStatus"):
            log.info("recording %s of call %s: %s", values.get("RecordingSid"), sid, values.get("RecordingStatus"))
    except Exception:
        log.exception("recording status callback failed")
    return xml(twiml.empty())


def _replay(calls: CallConnection, sid: str) -> Response:
    """The answer already given to this call's latest step."""
    call = calls.find(sid)
    return xml(call.last_twiml) if call is not None and call.last_twiml else apology()


def init_app(app: Flask) -> None:
    app.extensions["ivr.rendered"] = {}
    app.extensions["ivr.too_large"] = lambda: apology(then_main_menu=False)
    app.extensions["ivr.contexts"] = _contexts(app)
    app.register_blueprint(bp)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def not_found(error):  # type: ignore[no-untyped-def]
        # A step URL from an old deploy, or a mistyped webhook: the caller still hears something.
        if request.path.startswith("/voice/"):
            return apology()
        # An API client gets JSON, also for an address no route takes (an id out of range).
        if request.path.startswith("/agent/api/"):
            response = jsonify(error=f"there is no {request.method} {request.path}")
            response.status_code = error.code
            return response
        return error
