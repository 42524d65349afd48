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
    from ivr import agents, cli, db, voice
    from ivr import hours as clock
    from ivr.flows import build_flow, handler_phrases, handler_prompts
    from ivr.flows.check import problems
    from ivr.flows.engine import Engine
    from ivr.hours import OpeningHours
    from ivr.prompts import Catalog
    from ivr.speech import recognizer as speech

    app = Flask(__name__)
    settings = load_settings(config)
    app.config.update(settings)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    if settings["PROXY_HOPS"]:
        hops = settings["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]

    catalog = Catalog.load(defaults={"company": settings["COMPANY_NAME"]})
    flow = build_flow()
    found = problems(flow, catalog, handler_prompts(), handler_phrases())
    if found:
        raise FlowError("the call flow is not valid:\n  " + "\n  ".join(found))
    app.extensions["ivr.catalog"] = catalog
    app.extensions["ivr.engine"] = Engine(flow, catalog, settings)

    app.extensions["ivr.hours"] = OpeningHours.from_settings(settings)
    clock.now(settings)  # a malformed IVR_CLOCK is a start-up error
    # A wrong or partial Vosk model is an error now, not in the middle of a call; the model itself
    # is loaded the first time audio is recognised.
    app.extensions["ivr.speech"] = speech.choose(settings)
    log.info("offline speech recognition: %s", app.extensions["ivr.speech"].describe())

    db.init_app(app)
    voice.init_app(app)
    agents.init_app(app)
    cli.init_app(app)
    _warn_about_security(app)
    return app


def _warn_about_security(app: Flask) -> None:
    if not app.config["VALIDATE_SIGNATURES"]:
        log.warning(
            "!!! IVR_VALIDATE_SIGNATURES is off: anyone can post to the voice webhooks. "
            "Use this only on a development machine. !!!"
        )
    elif not app.config["TWILIO_AUTH_TOKEN"]:
        log.warning("IVR_TWILIO_AUTH_TOKEN is not set: every webhook request will be refused (403).")
