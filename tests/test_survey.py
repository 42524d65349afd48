"""The question after self-service (ivr/flows/survey.py): who is asked, never when, and how the
answers count. The calls themselves are scenarios: tests/scenarios/*survey_after_help.yaml."""

from __future__ import annotations

import secrets
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from ivr.config import ConfigError, load_settings
from ivr.db import get_db
from ivr.flows import survey
from ivr.flows.state import CallState
from ivr.insights import figures
from ivr.models import Message
from ivr.simulator.scenario import load, run
from ivr.simulator.transport import FlaskTransport
from tests.conftest import TOKEN, make_app
from tests.helpers import rolled_up

SCENARIO = Path(__file__).parent / "scenarios" / "survey_after_help.yaml"


def test_a_share_of_calls_is_asked_the_same_on_every_host() -> None:
    sids = ["CA" + secrets.token_hex(16) for _ in range(10_000)]
    asked = sum(survey.in_share(sid, 30) for sid in sids)
    assert 2_700 < asked < 3_300
    assert [survey.in_share(sid, 30) for sid in sids[:50]] == [survey.in_share(sid, 30) for sid in sids[:50]]
    assert not any(survey.in_share(sid, 0) for sid in sids) and all(survey.in_share(sid, 100) for sid in sids)


@pytest.mark.parametrize("share", [-1, 101, 250])
def test_a_share_that_is_not_a_percentage_stops_the_start(tmp_path: Path, template_db: Path, share: int) -> None:
    with pytest.raises(ConfigError, match=f"IVR_SURVEY_SHARE must be a whole number from 0 to 100 .*not {share}"):
        make_app(tmp_path, template_db, SURVEY_SHARE=share)


def test_a_share_in_words_is_refused_where_it_is_read() -> None:
    with pytest.raises(ConfigError, match="IVR_SURVEY_SHARE must be a whole number, not 'thirty'"):
        load_settings(environ={"IVR_SURVEY_SHARE": "thirty"}, env_file=None)


@pytest.mark.parametrize(
    ("collected", "outcome", "asked"),
    [
        ({"helped": ["order_status"]}, "helped", True),
        ({}, None, False),  # nothing done: nothing to ask about
        ({"helped": ["order_status"], "surveyed": 1}, "helped", False),  # never twice in a call
        ({"helped": ["order_status"]}, "transferred", False),  # never after a person
        ({"helped": ["order_status"]}, "message_left", False),  # nor after a message
    ],
)
def test_who_is_asked(collected: dict, outcome: str | None, asked: bool) -> None:  # type: ignore[type-arg]
    state = CallState(node="goodbye", call_sid="CA" + secrets.token_hex(16), collected=collected, outcome=outcome)
    assert survey.asks(state, SimpleNamespace(settings={"SURVEY_SHARE": 100})) is asked  # type: ignore[arg-type]
    assert survey.asks(state, SimpleNamespace(settings={"SURVEY_SHARE": 0})) is False  # type: ignore[arg-type]


def test_the_answers_count_in_the_insights_and_a_no_reaches_the_team(tmp_path: Path, template_db: Path) -> None:
    scenario = load(SCENARIO)
    app = make_app(tmp_path, template_db, **scenario.app_settings())
    try:
        outcome = run(scenario, FlaskTransport(app, TOKEN))
        assert outcome.ok, outcome.report()
        seen = rolled_up(app, 4)
        with app.app_context(), get_db().reading() as session:
            [message] = session.scalars(select(Message)).all()
        # Four calls asked: one yes, two no (one left a message), one silent.
        assert figures.as_json(seen)["survey"] == {"asked": 4, "solved": 1, "not_solved": 2}
        # A no is not "helped": only the yes and the silent caller count as helped.
        assert seen.outcomes["helped"] == 2 and seen.outcomes["message"] == 1
        assert message.reason == "not_solved" and message.branch == "survey_offer"
    finally:
        app.extensions["ivr.db"].engine.dispose()
