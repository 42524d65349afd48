"""The demo data counts its days from the line's today, as the flows do, whatever the machine's date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from ivr.db import get_db
from ivr.models import Order
from ivr.seed import line_today, load_demo_data
from tests.conftest import make_app


def test_at_night_in_new_york_the_demo_data_is_still_todays(tmp_path: Path, template_db: Path) -> None:
    # 21:00 in New York is 02:00 the next day in UTC: the machine's date is a day ahead of the line's.
    app = make_app(tmp_path, template_db, CLOCK="2026-11-28T21:00:00-05:00", TIMEZONE="America/New_York")
    with app.app_context():
        assert line_today() == dt.date(2026, 11, 28)
        with get_db().transaction() as session:
            load_demo_data(session)
        with get_db().reading() as session:
            assert session.scalar(select(Order.ships_on).where(Order.number == "5002")) == dt.date(2026, 11, 29)
    app.extensions["ivr.db"].engine.dispose()
