"""Fixtures: a fresh app on its own migrated SQLite database per test, and a caller who phones it.

The schema is migrated once per session (the real Alembic migrations) into a template file that each
test copies, so every test starts from the same demo data without paying for migrations.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from ivr import create_app
from ivr.db import upgrade

# tests/helpers.py is no test module: its asserts explain a failure as the tests' own do only when
# pytest rewrites them, which it must be told before the first test module imports it.
pytest.register_assert_rewrite("tests.helpers")

TOKEN = "test-auth-token-0123456789abcdef"
# The simulator's media server (ivr/simulator/media.py) listens on 127.0.0.1: recordings may come from it.
MEDIA_HOSTS = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "ivr.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_MEDIA_HOSTS": MEDIA_HOSTS})
    from ivr.db import get_db
    from ivr.seed import line_today, load_demo_line

    with app.app_context(), get_db().transaction() as session:
        load_demo_line(session)
        SEEDED_FOR[path] = line_today()
    get_db_engine = app.extensions["ivr.db"].engine
    get_db_engine.dispose()
    return path


# The line's day each template's demo dates ("arrives tomorrow", "due in 5 days") were seeded for.
SEEDED_FOR: dict[Path, Any] = {}
# Scenarios leave their messages on their own fixed days (2026-11-24), and the worker runs on today's
# clock: with the 90 days' retention, from 2027-02-22 on it would find their audio already past it. The
# test of retention sets the days itself.
NO_RETENTION = 0
# The clock of the server fixture: a Tuesday morning in New York, in opening hours.
SERVER_CLOCK = "2026-11-24T10:00:00-05:00"


def make_app(tmp_path: Path, template_db: Path, **overrides: object) -> Flask:
    path = tmp_path / "ivr.sqlite3"
    if not path.exists():
        shutil.copy(template_db, path)
    config = {"DATABASE_URL": f"sqlite:///{path}", "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_URL": "", "PROXY_HOPS": 0,
              "TWILIO_MEDIA_HOSTS": MEDIA_HOSTS, "AUDIO_RETENTION_DAYS": NO_RETENTION,
              "DATA_DIR": str(tmp_path / "data"), "SURVEY_SHARE": 0}  # fmt: skip
    config.update(overrides)
    app = create_app(config)
    _dated_for_today(app, template_db)
    return app


def _dated_for_today(app: Flask, template_db: Path) -> None:
    """The demo dates seeded again for the line's today when it is not the template's: a session
    that runs past midnight where the line is, or an app whose IVR_CLOCK is another day."""
    from ivr.db import get_db
    from ivr.seed import line_today, load_demo_data

    with app.app_context():
        if line_today() != SEEDED_FOR.get(template_db):
            with get_db().transaction() as session:
                load_demo_data(session)


@pytest.fixture
def app(tmp_path: Path, template_db: Path) -> Iterator[Flask]:
    app = make_app(tmp_path, template_db)
    yield app
    app.extensions["ivr.db"].engine.dispose()


class PlayedScenarios:
    """Scenario files played in-process, each on its own app and copy of the demo database (as `make
    test` always plays them), once per test session: the outcome and the calls' event logs."""

    def __init__(self, folders: pytest.TempPathFactory, template_db: Path) -> None:
        self.folders = folders
        self.template_db = template_db
        self.played: dict[Path, Any] = {}

    def __getitem__(self, path: Path):  # type: ignore[no-untyped-def]
        from ivr.simulator.sandbox import play
        from ivr.simulator.scenario import load

        if path not in self.played:
            scenario = load(path)
            app = make_app(self.folders.mktemp(path.stem), self.template_db, **scenario.app_settings())
            try:
                self.played[path] = play(app, scenario, TOKEN)
            finally:
                app.extensions["ivr.db"].engine.dispose()
        return self.played[path]


@pytest.fixture(scope="session")
def played_scenarios(tmp_path_factory: pytest.TempPathFactory, template_db: Path) -> PlayedScenarios:
    """tests/scenarios/ played once for test_scenarios.py (each must pass) and test_coverage.py (every
    node reached or marked), each scenario when a test first asks for it."""
    return PlayedScenarios(tmp_path_factory, template_db)


@pytest.fixture
def client(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def phone(app: Flask):  # type: ignore[no-untyped-def]
    """Dial the IVR: `call = phone("+15550100001"); call.press("2"); call.hears("order number")`."""
    from ivr.simulator.phone import DEFAULT_CALLER, SimulatedCall
    from ivr.simulator.transport import FlaskTransport

    def dial(caller: str = DEFAULT_CALLER) -> SimulatedCall:
        return SimulatedCall(FlaskTransport(app, TOKEN), caller=caller).dial()

    return dial


def wait_until_serving(url: str, process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """Until the server at `url` answers (30 s at most, or until its process ends)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.post(f"{url}/voice/status", timeout=2)
            return
        except requests.RequestException:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("gunicorn did not start") from None
            time.sleep(0.1)


@pytest.fixture
def server(tmp_path: Path, template_db: Path) -> Iterator[str]:
    """gunicorn with 3 workers on a copy of the demo database (tmp_path / "server.sqlite3"), its clock
    fixed at SERVER_CLOCK."""
    database = tmp_path / "server.sqlite3"
    database.write_bytes(template_db.read_bytes())
    # A fixed clock, and the demo dates for its day: what callers hear does not depend on the hour.
    dated = create_app({"DATABASE_URL": f"sqlite:///{database}", "TWILIO_AUTH_TOKEN": TOKEN, "CLOCK": SERVER_CLOCK})
    _dated_for_today(dated, template_db)
    dated.extensions["ivr.db"].engine.dispose()
    port = free_port()
    env = {**os.environ, "IVR_DATABASE_URL": f"sqlite:///{database}", "IVR_TWILIO_AUTH_TOKEN": TOKEN,
           "IVR_TWILIO_MEDIA_HOSTS": MEDIA_HOSTS, "IVR_CLOCK": SERVER_CLOCK, "IVR_SURVEY_SHARE": "0"}  # fmt: skip
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "--workers", "3", "--no-control-socket", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, process)
        yield url
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
        assert "database is locked" not in output, output
        assert "Traceback" not in output, output
