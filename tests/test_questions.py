"""Questions (main menu 3): choices found for the call, and the log the knowledge base's keepers read."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from ivr.db import get_db
from ivr.errors import FlowError
from ivr.flows.actions import Listen, Say
from ivr.flows.engine import Engine
from ivr.flows.inputs import Keys, Speech
from ivr.flows.nodes import Choose, Command, Flow, Hangup, Question
from ivr.flows.state import CallState
from ivr.models import FaqQuery
from ivr.prompts import Catalog, Language
from ivr.simulator.phone import SimulatedCall
from ivr.simulator.transport import FlaskTransport
from tests.conftest import TOKEN, make_app

# ---- the Choose node on its own --------------------------------------------------------------

PROMPTS = {p: p for p in ("pick", "ask", "bye", "no_input", "no_match", "no_input_again", "no_match_again", "apology",
                          "help")}  # fmt: skip
PROMPTS["choice"] = "For {label}, press {key}."
CATALOG = Catalog({"en-US": Language(PROMPTS, {"repeat": ["repeat"], "main_menu": ["main menu", "menu"]})})
CHOICES = [{"label": "delivery costs", "value": "costs"}, {"label": "delivery times", "value": "times"},
           {"label": "refunds", "value": "refunds"}]  # fmt: skip
FLOW = Flow(
    nodes={
        "pick": Choose("pick", prompt="pick", choices_from="found", store_as="chosen", goto="bye", announce="choice",
                       help="help"),
        "ask": Choose("ask", prompt="ask", choices_from="found", store_as="chosen", goto="bye", announce="choice",
                      question=Question("asked", "bye")),
        "bye": Hangup("bye", prompt="bye"),
    },
    start="pick",
    main_menu="pick",
    on_failures="bye",
    commands=(Command("repeat", key="*"), Command("main_menu", key="9", goto="pick")),
)  # fmt: skip
ENGINE = Engine(FLOW, CATALOG)


def at(node: str) -> CallState:
    return CallState(node=node, collected={"found": CHOICES})


def test_choices_are_announced_in_order_with_their_keys_and_labels_as_hints() -> None:
    turn = ENGINE.enter(at("pick"), "pick")
    said = [(a.prompt, dict(a.values)) for a in turn.actions if isinstance(a, Say)]
    assert said == [("pick", {})] + [("choice", {"label": c["label"], "key": str(n)}) for n, c in
                                     enumerate(CHOICES, 1)]  # fmt: skip
    listen = turn.actions[-1]
    assert isinstance(listen, Listen) and listen.num_digits == 1
    assert {"delivery costs", "delivery times", "refunds", "main menu"} <= set(listen.hints)


@pytest.mark.parametrize(
    ("said", "value"),
    [
        (Keys("2"), "times"),
        (Speech("two"), "times"),
        (Speech("the refunds one please"), "refunds"),
        (Speech("how much does it cost"), "costs"),
        (Speech("something else entirely"), None),
        (Speech("delivery"), None),  # two labels fit equally: no match, ask again
        (Keys("4"), None),  # no fourth choice
        (Keys("0"), None),
    ],
)
def test_a_choice_by_key_number_or_label(said: Keys | Speech, value: str | None) -> None:
    turn = ENGINE.step(at("pick"), said)
    if value is None:
        assert turn.state.node == "pick" and turn.matched == "no_match" and "chosen" not in turn.state.collected
    else:
        assert turn.state.node == "bye" and turn.state.collected["chosen"] == value and turn.matched == value


def test_at_a_question_prompt_speech_is_the_question_and_keys_pick_a_topic() -> None:
    asked = ENGINE.step(at("ask"), Speech("what's on the menu at your cafe"))
    assert asked.state.collected["asked"] == "what's on the menu at your cafe" and asked.matched == "question"
    assert ENGINE.step(at("ask"), Speech("main menu")).matched == "main_menu"
    assert ENGINE.step(at("ask"), Keys("3")).state.collected["chosen"] == "refunds"
    listen = ENGINE.enter(at("ask"), "ask").actions[-1]
    assert isinstance(listen, Listen) and listen.hints == ()  # free-form: the caller's own words


def test_a_choose_left_without_choices_is_a_flow_error() -> None:
    with pytest.raises(FlowError, match="no choices"):
        ENGINE.enter(CallState(node="pick"), "pick")


# ---- what is logged for the knowledge base's keepers -------------------------------------------


def queries(app: Flask, call: SimulatedCall) -> list[tuple[str, str | None, bool | None]]:
    with app.app_context(), get_db().reading() as session:
        rows = session.scalars(select(FaqQuery).where(FaqQuery.call_sid == call.call_sid).order_by(FaqQuery.id))
        return [(q.asked, q.answered_slug, q.helpful) for q in rows]


def dial(app: Flask) -> SimulatedCall:
    call = SimulatedCall(FlaskTransport(app, TOKEN)).dial()
    call.press("3")
    call.hears("What would you like to know")
    return call


def test_answers_questions_not_found_and_whether_they_helped_are_logged(app: Flask) -> None:
    call = dial(app)
    call.say("how long does shipping take")
    call.hears("business days")
    call.say("yes")
    call.press("1")
    call.say("what is the meaning of life")
    call.hears("couldn't find")
    call.press("1")
    call.say("delivery")
    call.hears("few answers")
    call.press("1")
    call.hears("4 dollars 99")
    call.say("no")
    call.press("1")
    call.press("3")  # a topic by key
    call.press("2")
    call.hears("We refund you")
    assert queries(app, call) == [
        ("how long does shipping take", "delivery_times", True),
        ("what is the meaning of life", None, None),
        ("delivery", "delivery_costs", False),
        ("topic: returns and refunds", "refunds", None),
    ]
    report = app.test_cli_runner().invoke(args=["faq", "asked", "--days", "1"])
    assert report.exit_code == 0, report.output
    assert "4 questions since" in report.output
    assert re.search(r"en-US\s+delivery_times\s+1\s+1\s+0", report.output)
    assert re.search(r"en-US\s+delivery_costs\s+1\s+0\s+1", report.output)
    assert re.search(r"Found nothing \(1\):\n  \S+ \S+  en-US\s+what is the meaning of life", report.output)
    assert re.search(r"Did not help \(1\):\n  \S+ \S+  en-US\s+delivery  ->  delivery_costs", report.output)


def test_an_entry_offered_to_confirm_is_logged_only_as_what_the_caller_said(app: Flask) -> None:
    """ "Is your question about ...?": no is a question nothing answered; yes is the entry's answer."""
    call = dial(app)
    call.say("can I transfer my loyalty points to my sister")
    call.hears("It sounds like a question about membership and loyalty points. Is that right?")
    assert queries(app, call) == []  # nothing was answered yet
    call.say("no")
    call.say("can I transfer my loyalty points to my sister")
    call.press("1")
    call.hears("Members earn 1 point")
    assert queries(app, call) == [
        ("can I transfer my loyalty points to my sister", None, None),
        ("can I transfer my loyalty points to my sister", "loyalty_points", None),
    ]


@pytest.mark.parametrize(
    ("language", "name", "asked", "yes", "title", "answer"),
    [
        (
            "fi-FI",
            "suomeksi",
            "voiko bonuspisteet siirtää",
            "kyllä",
            "kanta-asiakkuus ja bonuspisteet",
            "Kanta-asiakkaana saat",
        ),
        (
            "lv-LV",
            "latviski",
            "vai punktus var pārskaitīt",
            "jā",
            "lojalitātes programma un punkti",
            "Lojalitātes programmas dalībnieki",
        ),
    ],
)
def test_an_entry_it_is_not_sure_of_is_asked_about_in_the_callers_language(
    tmp_path, template_db, language: str, name: str, asked: str, yes: str, title: str, answer: str
) -> None:  # type: ignore[no-untyped-def]
    app = make_app(tmp_path, template_db, LANGUAGES="en-US,fi-FI,lv-LV")
    catalog = app.extensions["ivr.catalog"]
    call = SimulatedCall(FlaskTransport(app, TOKEN)).dial()
    call.say(name)
    call.press("3")
    call.say(asked)
    maybe = catalog.text(language, "faq_maybe", {"title": "TITLE"}).split("TITLE")[0]
    assert maybe in call.heard and title in call.heard, call.heard
    assert catalog.text(language, "faq_helpful") not in call.heard  # nothing read out yet
    call.say(yes)
    assert answer in call.heard and catalog.text(language, "faq_helpful") in call.heard, call.heard
    app.extensions["ivr.db"].engine.dispose()


def test_a_retried_answer_step_is_logged_once(app: Flask) -> None:
    call = dial(app)
    gather = call._waiting
    assert gather is not None
    params = {**call._base_params(first=False), "SpeechResult": "how do I pay", "Confidence": "0.9"}
    for _ in range(3):  # Twilio retries the same request
        response = call.transport.post(gather.get("action"), params)
        assert response.status == 200 and "debit cards" in response.body
    assert queries(app, call) == [("how do I pay", "payment_methods", None)]


def test_an_empty_knowledge_base_sends_the_caller_back_to_the_main_menu(app: Flask) -> None:
    from ivr.models import FaqEntry

    with app.app_context(), get_db().transaction() as session:
        for entry in session.scalars(select(FaqEntry)):
            session.delete(entry)
    call = SimulatedCall(FlaskTransport(app, TOKEN)).dial()
    call.press("3")
    call.hears("answers to common questions aren't available right now")
    call.hears("How can I help")
