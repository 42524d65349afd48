"""Problems a caller reports go to a person with the case: recognised in every language, never answered
from the knowledge base, and the message says what the team needs to act."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from ivr.db import get_db
from ivr.flows.problems import ABOUT_AN_ORDER, KINDS
from ivr.models import Message
from ivr.prompts import Catalog
from ivr.simulator.phone import SimulatedCall
from ivr.simulator.scenario import load, run
from ivr.simulator.transport import FlaskTransport
from tests.conftest import TOKEN, make_app
from tests.helpers import api_token, app, bearer, login  # noqa: F401  (the agents' app, with agents)

__all__ = ["app"]
SCENARIOS = Path(__file__).parent / "scenarios"
CATALOG = Catalog.load()

# Sentences a caller might say for each problem, in each language (whole sentences around the phrases).
SAID = {
    "en-US": {
        "not_received": "my parcel never arrived",
        "damaged": "you sent me the wrong item",
        "charged_twice": "I was double charged for it",
        "cancel_order": "I'd like to cancel my order please",
        "close_account": "please delete my account",
        "complaint": "I want to make a complaint about your service",
    },
    "fi-FI": {
        "not_received": "mun paketti ei oo vieläkään tullu",
        "damaged": "tuote tuli rikki",
        "charged_twice": "multa veloitettiin kahdesti",
        "cancel_order": "haluun perua tilauksen",
        "close_account": "haluan sulkea tilini",
        "complaint": "haluan tehdä valituksen",
    },
    "lv-LV": {
        "not_received": "mana paka vēl nav pienākusi",
        "damaged": "prece atnāca bojāta, tā ir salūzis",
        "charged_twice": "man noņēma naudu divreiz",
        "cancel_order": "es gribu atcelt savu pasūtījumu",
        "close_account": "lūdzu, izdzēsiet manu kontu, gribu slēgt kontu",
        "complaint": "gribu iesniegt sūdzību",
    },
}
NAMES = {"en-US": "english", "fi-FI": "suomeksi", "lv-LV": "latviski"}


@pytest.fixture
def multilingual(tmp_path: Path, template_db: Path):  # type: ignore[no-untyped-def]
    app = make_app(tmp_path, template_db, LANGUAGES="en-US,fi-FI,lv-LV", SECRET_KEY="test-secret-key")
    yield app
    app.extensions["ivr.db"].engine.dispose()


@pytest.mark.parametrize("prompt", ["main_menu", "faq_ask"])
@pytest.mark.parametrize("language", list(SAID))
@pytest.mark.parametrize("kind", list(KINDS))
def test_each_problem_is_recognised_in_each_language(
    multilingual: Flask, language: str, kind: str, prompt: str
) -> None:
    """At the main menu, and after pressing 3 for questions: the problem's way, never an answer."""
    call = SimulatedCall(FlaskTransport(multilingual, TOKEN), caller="+15550100001").dial()
    call.say(NAMES[language])
    if prompt == "faq_ask":
        call.press("3")
        assert CATALOG.text(language, "faq_ask").split("{")[0].strip() in call.heard, call.heard
    call.say(SAID[language][kind])
    expected = "problem_order_number" if kind in ABOUT_AN_ORDER else f"problem_next_{kind}"
    assert CATALOG.text(language, expected) in call.heard, call.heard


def test_the_message_carries_the_case_to_the_queue_the_page_and_the_api(app: Flask) -> None:
    outcome = run(load(SCENARIOS / "problem_not_received.yaml"), FlaskTransport(app, TOKEN))
    assert outcome.ok, outcome.report()
    with app.app_context(), get_db().reading() as session:
        message = session.scalars(select(Message)).one()
        assert message.reason == "problem"
        assert message.case.startswith("order 5003: not received; status says delivered "), message.case
        case, message_id = message.case, message.id
    agent = login(app)
    assert case in agent.get("/agent/").get_data(as_text=True)
    assert f"The case:</strong> {case}" in agent.get(f"/agent/messages/{message_id}").get_data(as_text=True)
    reply = app.test_client().get(f"/agent/api/messages/{message_id}", headers=bearer(api_token(app)))
    assert reply.get_json()["case"] == case


def test_an_order_that_is_not_the_callers_is_never_read_out(multilingual: Flask) -> None:
    """Ada reports a double charge on Grace's order 5003: she hears it is not among hers, never its
    status, and after a second try the case says so."""
    app = multilingual
    app.config["CLOCK"] = "2026-11-24T19:30:00-05:00"
    call = SimulatedCall(FlaskTransport(app, TOKEN), caller="+15550100001").dial()
    call.say("english")
    call.say("I was charged twice")
    for _ in range(2):
        call.press("5003#")
        assert "was delivered" not in call.heard
        call.hears("couldn't find order 5 0 0 3 among the orders for this phone number")
    call.press("1")
    call.record(Path(__file__).parent / "fixtures" / "messages" / "ada.wav")
    call.say("send it")
    with app.app_context(), get_db().reading() as session:
        case = session.scalars(select(Message.case)).one()
    assert case == "order 5003: charged twice or a wrong amount; no such order among this caller's orders"


def test_a_problem_is_never_answered_from_the_knowledge_base(multilingual: Flask) -> None:
    """'Broken' is a keyword of the returns answer: said as a problem, it is a problem."""
    call = SimulatedCall(FlaskTransport(multilingual, TOKEN), caller="+15550100001").dial()
    call.say("english")
    call.say("the item I received is broken")
    assert "You can return any item" not in call.heard
    call.hears("Which order is it about")
