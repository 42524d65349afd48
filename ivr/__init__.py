"""A telephone self-service system (IVR) answering Twilio voice webhooks."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from ivr.config import load_settings
from ivr.errors import FlowError

log = logging.getLogger("ivr")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings, database, prompts, the checked call flow, webhooks and commands."""
    from ivr import agents, cli, db, front, headers, voice, web
    from ivr import hours as clock
    from ivr.flows import survey
    from ivr.flows.check import load_checked
    from ivr.flows.engine import Engine
    from ivr.hours import OpeningHours
    from ivr.languages import Languages
    from ivr.messages import audio_store
    from ivr.prompts import Catalog
    from ivr.simulator import cli as simulator_cli
    from ivr.speech import recognizer as speech

    app = Flask(__name__)
    settings = load_settings(config)
    app.config.update(settings)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    if settings["PROXY_HOPS"]:
        hops = settings["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]

    flow, catalog, found = load_checked({"company": settings["COMPANY_NAME"]})
    if found and not _listing_commands():
        raise FlowError("the call flow is not valid:\n  " + "\n  ".join(found))
    # Listing the commands (`flask --help`, `flows check`) works with a broken flow; the commands
    # that need the flow refuse with these lines (ivr.cli.checks.sound_flow).
    app.extensions["ivr.flow_problems"] = found
    app.extensions["ivr.catalog"] = catalog or Catalog({})
    app.extensions["ivr.languages"] = Languages.from_settings(settings, catalog.languages if catalog else None)
    if flow is not None and catalog is not None:
        app.extensions["ivr.engine"] = Engine(flow, catalog, settings)

    app.extensions["ivr.hours"] = OpeningHours.from_settings(settings)
    clock.now(settings)  # a malformed IVR_CLOCK is a start-up error
    audio_store.kind_for(settings)  # as is an unknown IVR_RECORDINGS_STORE
    survey.share(settings)  # or a share that is not a percentage
    # A wrong or partial Vosk model is an error now, not in the middle of a call; the model itself
    # is loaded the first time audio is recognised.
    app.extensions["ivr.speech"] = speech.choose(settings)

    # The simulator makes apps of its own (a scenario's settings, a sandbox's databases) with this
    # factory, taken from the app at hand rather than imported back from here.
    app.extensions["ivr.factory"] = create_app
    db.init_app(app)
    headers.init_app(app)
    voice.init_app(app)
    agents.init_app(app)
    web.init_app(app)
    front.init_app(app)
    cli.init_app(app)
    simulator_cli.register(app)
    if settings["DESK_URL"]:
        _phone_line_only(app, str(settings["DESK_URL"]))
    _warn_about_security(app)
    return app


def _phone_line_only(app: Flask, desk: str) -> None:
    """These workers answer Twilio's webhooks only; a person (or a flood) is sent to the desk's workers."""
    from urllib.parse import quote

    from flask import redirect, request

    @app.before_request
    def elsewhere():  # type: ignore[no-untyped-def]
        if not request.path.startswith("/voice/"):
            # The path as a path (quoted again: no line break or ? of its own) and the query as sent.
            query = request.query_string.decode("latin-1")
            where = desk.rstrip("/") + quote(request.path, safe="/%~@!$&'()*+,;=:") + (f"?{query}" if query else "")
            return redirect(where, code=307)
        return None


def _listing_commands() -> bool:
    """True while Flask's command line loads the app to find its commands (not to run one of them,
    and never under gunicorn): the one time a broken flow must not stop the app from loading."""
    import click

    context = click.get_current_context(silent=True)
    return context is not None and isinstance(context.command, click.Group)


def _warn_about_security(app: Flask) -> None:
    if not app.config["VALIDATE_SIGNATURES"]:
        log.warning(
            "!!! IVR_VALIDATE_SIGNATURES is off: anyone can post to the voice webhooks. "
            "Use this only on a development machine. !!!"
        )
    elif not app.config["TWILIO_AUTH_TOKEN"]:
        log.warning("IVR_TWILIO_AUTH_TOKEN is not set: every webhook request will be refused (403).")
