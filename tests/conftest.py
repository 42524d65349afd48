"""Fixtures: a fresh app on its own migrated SQLite database per test, and a caller who phones it.

The schema is migrated once per session (the real Alembic migrations) into a template file that each
test copies, so every test starts from the same demo data without paying for migrations.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from ivr import create_app
from ivr.db import upgrade

TOKEN = "test-auth-token-0123456789abcdef"


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "ivr.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "TWILIO_AUTH_TOKEN": TOKEN})
    from ivr.db import get_db
    from ivr.faq import load_demo
    from ivr.seed import load_demo_data

    with app.app_context(), get_db().transaction() as session:
        load_demo_data(session)
        load_demo(session)
    get_db_engine = app.extensions["ivr.db"].engine
    get_db_engine.dispose()
    return path


def make_app(tmp_path: Path, template_db: Path, **overrides: object) -> Flask:
    path = tmp_path / "ivr.sqlite3"
    if not path.exists():
        shutil.copy(template_db, path)
    config = {"DATABASE_URL": f"sqlite:///{path}", "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_URL": "", "PROXY_HOPS": 0}
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app(tmp_path: Path, template_db: Path) -> Iterator[Flask]:
    app = make_app(tmp_path, template_db)
    yield app
    app.extensions["ivr.db"].engine.dispose()


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
