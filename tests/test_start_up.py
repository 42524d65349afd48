"""Starting a line: hosts started together upgrade the database once and load the demo once, and the
demo is loaded only when asked, never over a line's own data."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text, update

from ivr.db import get_db
from ivr.models import Customer, Order
from tests.conftest import ROOT, make_app
from tests.helpers import postgres_url

__all__ = ["postgres_url"]
FLASK = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi"]


def commands_at_once(url: str, *args: str, count: int = 3) -> list[subprocess.CompletedProcess[str]]:
    """`count` processes of one command, started together, as hosts booting at once run it."""
    env = {**os.environ, "IVR_DATABASE_URL": url, "IVR_TWILIO_AUTH_TOKEN": "t", "IVR_SECRET_KEY": "k"}
    started = [
        subprocess.Popen([*FLASK, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    return [subprocess.CompletedProcess(p.args, p.wait(120), *p.communicate()) for p in started]


def started_together(url: str) -> None:
    """Three hosts upgrading and seeding a new database at the same moment: it is upgraded and loaded once."""
    upgraded = commands_at_once(url, "db", "upgrade")
    assert [result.returncode for result in upgraded] == [0, 0, 0], [result.stderr for result in upgraded]
    seeded = commands_at_once(url, "seed", "--if-new")
    assert [result.returncode for result in seeded] == [0, 0, 0], [result.stderr for result in seeded]
    assert sorted(result.stdout.startswith("demo data loaded") for result in seeded) == [False, False, True]
    engine = create_engine(url)
    with engine.connect() as connection:
        heads = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        customers = connection.scalar(select(func.count()).select_from(Customer))
    engine.dispose()
    latest = sorted(path.name[:4] for path in (ROOT / "db" / "migrations" / "versions").glob("0*.py"))[-1]
    assert heads == [latest] and customers == 3


def test_hosts_started_together_on_postgresql(postgres_url: str) -> None:
    started_together(postgres_url)


def test_hosts_started_together_on_sqlite(tmp_path: Path) -> None:
    started_together(f"sqlite:///{tmp_path / 'new.sqlite3'}")


@pytest.fixture
def line(tmp_path: Path, template_db: Path):  # type: ignore[no-untyped-def]
    app = make_app(tmp_path, template_db)
    yield app
    app.extensions["ivr.db"].engine.dispose()


def ships_on(app) -> dt.date | None:  # type: ignore[no-untyped-def]
    with app.app_context(), get_db().reading() as session:
        return session.scalar(select(Order.ships_on).where(Order.number == "5002"))


def set_ships_on(app, day: dt.date) -> None:  # type: ignore[no-untyped-def]
    with app.app_context(), get_db().transaction() as session:
        session.execute(update(Order).where(Order.number == "5002").values(ships_on=day))


def test_make_run_leaves_a_database_with_data_as_it_is(line) -> None:  # type: ignore[no-untyped-def]
    set_ships_on(line, dt.date(2020, 1, 1))
    result = line.test_cli_runner().invoke(args=["seed", "--if-new"])
    assert result.exit_code == 0 and "not loaded again" in result.output
    assert ships_on(line) == dt.date(2020, 1, 1)


def test_seed_brings_the_demo_to_today_when_the_data_is_the_demos(line) -> None:  # type: ignore[no-untyped-def]
    set_ships_on(line, dt.date(2020, 1, 1))
    result = line.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0 and result.output.startswith("demo data loaded")
    assert ships_on(line) != dt.date(2020, 1, 1)


def test_seed_never_loads_over_a_lines_own_data(line) -> None:  # type: ignore[no-untyped-def]
    with line.app_context(), get_db().transaction() as session:
        session.add(Customer(account_number="777001", pin_hash="x", name="A Real Customer", phone="+15557770001"))
        session.execute(update(Customer).where(Customer.account_number == "100001").values(name="Renamed by the line"))
    set_ships_on(line, dt.date(2020, 1, 1))
    result = line.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 1
    assert "this database holds a line's own data (1 customer)" in result.output
    with line.app_context(), get_db().reading() as session:
        assert session.scalar(select(Customer.name).where(Customer.account_number == "100001")) == "Renamed by the line"
    assert ships_on(line) == dt.date(2020, 1, 1)
