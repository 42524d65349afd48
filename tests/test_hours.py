"""Opening hours, holidays, the clock, and the transfer to a person."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask import Flask

from ivr.errors import ConfigError
from ivr.hours import OpeningHours, now
from ivr.prompts import Catalog
from ivr.simulator.scenario import load, run
from ivr.simulator.transport import HttpTransport
from ivr.spoken import Speaker
from tests.conftest import make_app

NY = "America/New_York"


def hours(spec: str = "mon-fri 09:00-17:00; sat 10:00-14:00", holidays: str = "01-01, 12-25, 2026-11-26"):  # type: ignore[no-untyped-def]
    return OpeningHours.from_settings({"TIMEZONE": NY, "OPENING_HOURS": spec, "HOLIDAYS": holidays})


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.mark.parametrize(
    "moment, is_open",
    [
        ("2026-11-24T09:00:00-05:00", True),  # Tuesday, opening minute
        ("2026-11-24T16:59:59-05:00", True),
        ("2026-11-24T17:00:00-05:00", False),  # closing time is closed
        ("2026-11-24T08:59:00-05:00", False),
        ("2026-11-28T13:00:00-05:00", True),  # Saturday
        ("2026-11-29T12:00:00-05:00", False),  # Sunday
        ("2026-11-24T15:00:00+00:00", True),  # 10 AM in New York
        ("2026-11-24T23:00:00+00:00", False),  # 6 PM in New York
        ("2026-11-26T12:00:00-05:00", False),  # a one-off holiday (Thanksgiving)
        ("2027-12-25T12:00:00-05:00", False),  # a yearly one, any year
    ],
)
def test_open_or_closed_in_the_business_time_zone(moment: str, is_open: bool) -> None:
    assert hours().is_open(at(moment)) is is_open


def test_next_opening_skips_nights_weekends_and_holidays() -> None:
    h = hours()
    assert h.next_opening(at("2026-11-24T19:30:00-05:00")) == at("2026-11-25T09:00:00-05:00")
    assert h.next_opening(at("2026-11-28T15:00:00-05:00")) == at("2026-11-30T09:00:00-05:00")
    # Wednesday night: Thursday is the holiday, Friday opens.
    assert h.next_opening(at("2026-11-25T18:00:00-05:00")) == at("2026-11-27T09:00:00-05:00")
    assert hours(spec="").next_opening(at("2026-11-25T18:00:00-05:00")) is None


def test_how_a_caller_hears_hours_and_the_next_opening() -> None:
    h = hours(spec="mon-fri 09:00-12:30, 13:30-17:00; sun 10:00-24:00")
    speak = Speaker(Catalog.load(), "en-US", dt.date(2026, 11, 24))
    assert speak.hours(h) == "Monday to Friday, 9 AM to 12:30 PM and 1:30 PM to 5 PM; Sunday, 10 AM to midnight"
    moment = at("2026-11-24T12:45:00-05:00")
    assert speak.opening(h.next_opening(moment), moment) == "today at 1:30 PM"
    friday = at("2026-11-27T18:00:00-05:00")
    assert speak.opening(hours().next_opening(friday), friday) == "tomorrow at 10 AM"
    monday = at("2026-11-28T15:00:00-05:00")
    assert speak.opening(hours().next_opening(monday), monday) == "on Monday, November 30 at 9 AM"


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"OPENING_HOURS": "weekdays 9-5"}, "cannot read 'weekdays 9-5'"),
        ({"OPENING_HOURS": "mon 17:00-09:00"}, "ends before it starts"),
        ({"OPENING_HOURS": "mon 25:00-26:00"}, "not a time of day"),
        ({"HOLIDAYS": "christmas"}, "'christmas' is not a date"),
        ({"HOLIDAYS": "02-30"}, "'02-30' is not a date"),
        ({"TIMEZONE": "Mars/Olympus"}, "is not a time zone"),
        ({"CLOCK": "tomorrow"}, "IVR_CLOCK must be a date and time"),
    ],
)
def test_bad_hours_settings_stop_the_app_with_a_clear_message(
    tmp_path: Path, template_db: Path, settings: dict, message: str
) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError, match=message):
        make_app(tmp_path, template_db, **settings)


def test_the_clock_is_real_unless_fixed() -> None:
    assert abs((now({}) - dt.datetime.now(dt.UTC)).total_seconds()) < 5
    assert now({"CLOCK": "2026-12-24T21:30:00+02:00"}) == at("2026-12-24T19:30:00+00:00")


def test_transfer_dials_the_agents_with_the_callers_number(app: Flask, phone) -> None:  # type: ignore[no-untyped-def]
    app.config["CLOCK"] = "2026-11-24T10:30:00-05:00"
    call = phone("+15550100003")
    call.press("0")
    assert call.waiting_for == "dial"
    element = call._waiting  # the <Dial> the call is in
    assert element.get("callerId") == "+15550100003"
    assert element.get("timeout") == str(app.config["TRANSFER_TIMEOUT"])
    assert element.get("action", "").startswith("/voice/step/transfer_to_agent?n=")
    assert element.findtext("Number") == app.config["AGENTS_NUMBER"]


def test_a_fixed_clock_cannot_be_played_over_http() -> None:
    scenario = load(Path(__file__).parent / "scenarios" / "agent_holiday.yaml")
    outcome = run(scenario, HttpTransport("http://127.0.0.1:9", "token"))
    assert not outcome.ok and "IVR_CLOCK=2026-12-25T11:00:00-05:00" in outcome.failures[0]["message"]
