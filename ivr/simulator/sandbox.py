"""Scenarios played each on a fresh copy of the demo database, with the event logs of the calls
they made.

For runs whose result must depend neither on the order of the scenarios (an account that one
scenario locks stays locked for the next on a shared database) nor on the database at hand: flow
coverage (`simulate --coverage`) plays here, as `make test` plays each scenario on its own copy.
The copies live in a temporary folder, removed afterwards; the app's own database is not touched.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from ivr.config import DEFAULTS
from ivr.models import Call
from ivr.simulator.scenario import Outcome, Scenario, run
from ivr.simulator.transport import FlaskTransport, Reply, Transport

# The simulator's media server (ivr/simulator/media.py) serves recordings from here.
MEDIA_HOSTS = "127.0.0.1"


class NotingCalls:
    """A transport that notes each call it carries (by CallSid), in the order they began."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.base_url = inner.base_url
        # scenario.run fixes the clock of an in-process app through this.
        self.app = getattr(inner, "app", None)
        self.call_sids: list[str] = []

    def post(self, url: str, params: dict[str, str]) -> Reply:
        sid = params.get("CallSid", "")
        if sid and sid not in self.call_sids:
            self.call_sids.append(sid)
        return self.inner.post(url, params)


@dataclass
class Played:
    outcome: Outcome
    # The event logs of the calls the scenario made, one call after another.
    events: list[dict[str, Any]]
    calls: int


def play(app: Flask, scenario: Scenario, token: str) -> Played:
    """Play `scenario` in-process on `app`, and read back the event logs of the calls it made."""
    transport = NotingCalls(FlaskTransport(app, token))
    outcome = run(scenario, transport)
    return Played(outcome, event_logs(app, transport.call_sids), len(transport.call_sids))


def event_logs(app: Flask, call_sids: list[str]) -> list[dict[str, Any]]:
    if not call_sids:
        return []
    query = select(Call.call_sid, Call.events).where(Call.call_sid.in_(call_sids))
    with app.extensions["ivr.db"].reading() as session:
        logs = {sid: events for sid, events in session.execute(query)}
    return [event for sid in call_sids for event in logs.get(sid) or []]


class Sandbox:
    """Fresh apps, each on its own copy of one freshly made demo database.

        with Sandbox(current_app.config, current_app.extensions["ivr.factory"]) as sandbox:
            played = sandbox.play(scenario)

    The apps take the given settings (the app at hand's), except where the data lives and what
    makes the simulator's requests and recordings acceptable: a token of its own, no public URL or
    proxy, the simulator's media server, no account SID of a real Twilio account. `factory` makes
    them from settings (ivr.create_app, which each app holds as its extensions["ivr.factory"]).
    """

    def __init__(self, settings: Mapping[str, Any], factory: Callable[[dict[str, Any]], Flask]) -> None:
        self.factory = factory
        self.token = secrets.token_hex(16)
        self.settings = {key: value for key, value in settings.items() if key in DEFAULTS}
        self.settings.update(TWILIO_AUTH_TOKEN=self.token, VALIDATE_SIGNATURES=True, PUBLIC_URL="", PROXY_HOPS=0,
                             TWILIO_MEDIA_HOSTS=MEDIA_HOSTS, TWILIO_ACCOUNT_SID="")  # fmt: skip
        self.folder: Path | None = None
        self.played = 0

    def __enter__(self) -> Sandbox:
        from ivr.db import upgrade
        from ivr.seed import load_demo_line

        self.folder = Path(tempfile.mkdtemp(prefix="ivr-sandbox-"))
        upgrade(f"sqlite:///{self.template}")
        app = self._app(self.template, self.folder)
        try:
            with app.app_context(), app.extensions["ivr.db"].transaction() as session:
                load_demo_line(session)
        finally:
            app.extensions["ivr.db"].engine.dispose()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    @property
    def template(self) -> Path:
        if self.folder is None:
            raise RuntimeError("a Sandbox is used inside `with`")
        return self.folder / "demo.sqlite3"

    def play(self, scenario: Scenario) -> Played:
        """Play `scenario` on a fresh copy of the demo database."""
        self.played += 1
        folder = self.template.parent / f"scenario-{self.played}"
        folder.mkdir()
        database = folder / "ivr.sqlite3"
        shutil.copy(self.template, database)
        app = self._app(database, folder, scenario.app_settings())
        try:
            return play(app, scenario, self.token)
        finally:
            app.extensions["ivr.db"].engine.dispose()
            shutil.rmtree(folder, ignore_errors=True)

    def _app(self, database: Path, folder: Path, overrides: Mapping[str, Any] | None = None) -> Flask:
        # An app per scenario: the line saying which recogniser it uses is said once, by the app at hand.
        logger = logging.getLogger("ivr")
        level = logger.level
        logger.setLevel(logging.WARNING)
        try:
            return self.factory(
                {
                    **self.settings,
                    **(overrides or {}),
                    "DATABASE_URL": f"sqlite:///{database}",
                    "DATA_DIR": str(folder / "data"),
                }  # fmt: skip
            )
        finally:
            logger.setLevel(level)
