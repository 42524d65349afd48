"""The version of the line each call heard (ivr/versions.py): recorded at its first step and when its
language changes, a new one for an edit of the knowledge base, figures per version in the insights, and
`flask versions` saying what each changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Flask
from sqlalchemy import select, update

from ivr import create_app
from ivr.db import get_db, upgrade
from ivr.insights import figures
from ivr.models import Call, FaqEntry, LineVersion
from ivr.seed import load_demo_line
from ivr.simulator.phone import SimulatedCall
from ivr.simulator.transport import FlaskTransport
from ivr.versions import current
from tests.conftest import TOKEN, make_app
from tests.helpers import PASSWORD, leave_message, login, postgres_url, rolled_up

__all__ = ["postgres_url"]


def call(app: Flask, caller: str = "+15550100001", language: str | None = None) -> str:
    """An order's status by keypad, and goodbye; the CallSid."""
    phone = SimulatedCall(FlaskTransport(app, TOKEN), caller=caller).dial()
    if language:
        assert phone.choose_language(language)
    phone.press("2")
    phone.press("5001#")
    phone.hangup()
    return phone.call_sid


def version_of(app: Flask, sid: str) -> str:
    with app.app_context(), get_db().reading() as session:
        return session.scalar(select(Call.version).where(Call.call_sid == sid)) or ""


def test_a_call_keeps_the_version_it_heard_and_an_edit_makes_a_new_one(tmp_path: Path, template_db: Path) -> None:
    app = make_app(tmp_path, template_db)
    try:
        first, again = call(app), call(app, "+15550100002")
        assert version_of(app, first) == version_of(app, again) != ""
        with app.app_context(), get_db().reading() as session:  # a step reads it as anything else does
            assert version_of(app, first) == current(session, app.extensions["ivr.catalog"], "en-US").id
        with app.app_context(), get_db().transaction() as session:  # an editor rewords one answer
            session.execute(update(FaqEntry).where(FaqEntry.slug == "delivery_times", FaqEntry.language == "en-US")
                            .values(answer="We are open from 9 to 5.", revised_at=dt.datetime.now(dt.UTC)))  # fmt: skip
        edited = call(app, "+15550100003")
        assert version_of(app, edited) not in ("", version_of(app, first))
        assert version_of(app, first) == version_of(app, again)  # a call keeps what it heard

        # Figures per version: each version's calls, in the insights' API.
        seen = figures.as_json(rolled_up(app, 3))
        assert [(v["version"], v["language"], v["calls"]) for v in seen["versions"]] == [
            (version_of(app, edited), "en-US", 1), (version_of(app, first), "en-US", 2)]  # fmt: skip

        listed = app.test_cli_runner().invoke(args=["versions"])
        assert listed.exit_code == 0, listed.output
        newest, oldest = listed.output.splitlines()[1:3]
        assert newest.startswith(version_of(app, edited)) and newest.endswith("knowledge changed")
        assert " 1 calls" in newest and oldest.startswith(version_of(app, first)) and oldest.endswith("first")
    finally:
        app.extensions["ivr.db"].engine.dispose()


def test_a_call_that_changes_language_hears_that_languages_version(tmp_path: Path, template_db: Path) -> None:
    app = make_app(tmp_path, template_db, LANGUAGES="en-US,fi-FI")
    try:
        english, finnish = call(app, language="en-US"), call(app, "+15550100002", language="fi-FI")
        assert version_of(app, english) != version_of(app, finnish)
        with app.app_context(), get_db().reading() as session:
            languages = dict(session.execute(select(LineVersion.id, LineVersion.language)).all())
        assert languages[version_of(app, english)] == "en-US" and languages[version_of(app, finnish)] == "fi-FI"
    finally:
        app.extensions["ivr.db"].engine.dispose()


def test_every_host_names_a_version_alike(tmp_path: Path, template_db: Path) -> None:
    one = make_app(tmp_path, template_db)
    other = make_app(tmp_path, template_db)  # another process's app on the same database
    try:
        heard = []
        for app in (one, other):
            with app.app_context(), get_db().reading() as session:
                heard.append(current(session, app.extensions["ivr.catalog"], "en-US"))
        assert heard[0] == heard[1] and len(heard[0].id) == 12
    finally:
        for app in (one, other):
            app.extensions["ivr.db"].engine.dispose()


def test_on_postgresql_a_step_names_the_version_as_anything_else_does(postgres_url: str) -> None:
    upgrade(postgres_url)
    app = create_app({"DATABASE_URL": postgres_url, "TWILIO_AUTH_TOKEN": TOKEN, "SURVEY_SHARE": 0})
    try:
        with app.app_context(), get_db().transaction() as session:
            load_demo_line(session)
        sid = call(app)
        with app.app_context(), get_db().reading() as session:
            assert version_of(app, sid) == current(session, app.extensions["ivr.catalog"], "en-US").id
    finally:
        app.extensions["ivr.db"].engine.dispose()


def test_a_message_page_shows_the_version_its_call_heard_and_that_versions_figures(
    tmp_path: Path, template_db: Path
) -> None:
    app = make_app(tmp_path, template_db, SECRET_KEY="k")
    try:
        assert app.test_cli_runner().invoke(args=["agents", "create", "ann"], input=PASSWORD + "\n").exit_code == 0
        helped = call(app)  # an order's status: helped
        message_id = leave_message(app)  # out of hours, a message
        rolled_up(app, 2)
        heard = version_of(app, helped)
        page = login(app).get(f"/agent/messages/{message_id}").get_data(as_text=True)
        assert f"The call heard version <code>{heard}</code> of the line" in page
        assert "2 calls so far, 50% helped" in page
    finally:
        app.extensions["ivr.db"].engine.dispose()
