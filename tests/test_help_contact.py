"""Messages from the help centre's form: into the agents' queue beside the voice messages, found by
their search; never stored twice, never lost on a mistake, and no flood from one address."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ivr.db import get_db
from ivr.messages.written import PER_HOUR
from ivr.models import Message, MessageHistory, Notification
from tests.conftest import free_port, make_app
from tests.helpers import PASSWORD, Inbox, found, login

LINE = "en-US,fi-FI,lv-LV"


@pytest.fixture
def line(tmp_path: Path, template_db: Path) -> Flask:
    app = make_app(tmp_path, template_db, LANGUAGES=LINE, CLOCK="2026-11-24T10:00:00-05:00", SECRET_KEY="help-secret",
                    NOTIFY_EMAIL="team@example.com", SMTP_HOST="127.0.0.1")  # fmt: skip
    result = app.test_cli_runner().invoke(args=["agents", "create", "ann"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def web(line: Flask) -> FlaskClient:
    return line.test_client()


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)  # type: ignore[union-attr]


def filled(web: FlaskClient, path: str = "/help/contact?lang=en-US", **values: str) -> dict[str, str]:
    html = web.get(path).get_data(as_text=True)
    form = {"csrf_token": hidden(html, "csrf_token"), "form_id": hidden(html, "form_id")}
    return {**form, "question": "Can I collect my order in person?", "email": "ada@example.com", **values}


def messages(line: Flask) -> list[Message]:
    with line.app_context(), get_db().reading() as db:
        rows = db.scalars(select(Message).where(Message.channel == "web").order_by(Message.id)).all()
        for row in rows:
            db.expunge(row)
        return list(rows)


def test_a_question_with_no_answer_offers_the_form_with_the_question_in_it(web: FlaskClient) -> None:
    html = web.get("/help/search?q=do+you+sell+gift+cards&lang=en-US").get_data(as_text=True)
    assert "We have no answer to that" in html and 'action="/help/contact?lang=en-US"' in html
    assert re.search(r'<textarea id="question"[^>]*>do you sell gift cards</textarea>', html)


def test_a_message_sent_lands_in_the_agents_queue_found_by_its_words(line: Flask, web: FlaskClient) -> None:
    sent = web.post("/help/contact?lang=en-US", data=filled(web, name="Ada Lovelace", order="5003"))
    assert sent.status_code == 200 and "Our team has your message." in sent.get_data(as_text=True)
    assert "We answer today, in opening hours." in sent.get_data(as_text=True)
    (message,) = messages(line)
    assert (message.channel, message.reason, message.status, message.language) == ("web", "web_message", "new", "en-US")
    assert (message.contact_name, message.contact_email, message.case) == (
        "Ada Lovelace",
        "ada@example.com",
        "order 5003",
    )
    assert message.transcript == "Can I collect my order in person?" and message.audio_status == "none"
    assert message.next_try_at is None  # the worker has nothing to do for it
    assert len(message.source) == 32 and "127.0.0.1" not in message.source
    with line.app_context(), get_db().reading() as db:
        assert db.scalar(select(func.count()).select_from(Notification).where(Notification.message_id == message.id))
        assert db.scalar(select(MessageHistory.detail).where(MessageHistory.message_id == message.id)) == (
            "written on the help centre"
        )
    assert [m["id"] for m in found(line, "collect")["messages"]] == [message.id]
    assert [m["id"] for m in found(line, "lovelace")["messages"]] == [message.id]
    agent = login(line)
    page = agent.get(f"/agent/messages/{message.id}").get_data(as_text=True)
    assert "Can I collect my order in person?" in page and "wrote on the help centre" in page
    assert "Written message from Ada Lovelace" in page and 'href="mailto:ada@example.com"' in page
    assert "What they wrote" in page and "audio" not in page.lower()


def test_the_form_says_when_the_team_answers_holidays_included(tmp_path: Path, template_db: Path) -> None:
    # Thursday 26 November 2026 (Thanksgiving, a holiday on this line), 10:00 in New York.
    app = make_app(tmp_path, template_db, CLOCK="2026-11-26T10:00:00-05:00", SECRET_KEY="k", HOLIDAYS="11-26")
    page = app.test_client().get("/help/contact").get_data(as_text=True)
    assert "We are back tomorrow at 9 AM, and answer then." in page  # the holiday is skipped
    assert "Monday to Friday, 9 AM to 5 PM" in page


def test_the_same_form_sent_twice_is_one_message(line: Flask, web: FlaskClient) -> None:
    form = filled(web)
    assert web.post("/help/contact", data=form).status_code == 200
    assert web.post("/help/contact", data=form).status_code == 200
    assert len(messages(line)) == 1


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"question": ""}, "Write your question."),
        ({"question": "x" * 2001}, "Please keep your question under 2000 characters."),
        ({"email": "", "phone": ""}, "Give an e-mail address or a phone number"),
        ({"email": "ada@"}, "That e-mail address does not look right."),
        ({"email": "", "phone": "call me"}, "That phone number does not look right."),
        ({"order": "50'03; DROP TABLE"}, "An order number is digits only."),
        ({"csrf_token": "forged"}, "The form had expired."),
        ({"form_id": "../../etc/passwd"}, "The form had expired."),
    ],
)
def test_a_form_with_a_mistake_comes_back_with_what_was_written(
    line: Flask, web: FlaskClient, change: dict[str, str], said: str
) -> None:
    form = {**filled(web, name="<b>Ada</b>"), **change}
    back = web.post("/help/contact?lang=en-US", data=form)
    html = back.get_data(as_text=True)
    assert back.status_code == 400 and said in html
    assert "&lt;b&gt;Ada&lt;/b&gt;" in html and "<b>Ada" not in html  # kept, and escaped
    if change.get("question", "x") and "question" not in change:
        assert "Can I collect my order in person?" in html
    assert messages(line) == []


def test_a_form_without_its_token_or_with_control_characters_is_never_a_500(line: Flask, web: FlaskClient) -> None:
    assert web.post("/help/contact", data={"question": "hello", "email": "a@b.cd"}).status_code == 400
    form = filled(web, question="line one\r\nline two\x00\x1b[31m\u2028", name="Ada\x00")
    assert web.post("/help/contact", data=form).status_code == 200
    (message,) = messages(line)
    assert message.transcript == "line one\nline two [31m" and message.contact_name == "Ada"  # ESC and NUL gone


def test_a_robot_filling_the_hidden_field_is_thanked_and_nothing_is_kept(line: Flask, web: FlaskClient) -> None:
    sent = web.post("/help/contact", data=filled(web, website="http://spam.example"))
    assert sent.status_code == 200 and "Thank you" in sent.get_data(as_text=True)
    assert messages(line) == []


def test_a_flood_from_one_address_is_refused_with_the_words_kept(line: Flask, web: FlaskClient) -> None:
    for number in range(PER_HOUR):
        assert web.post("/help/contact", data=filled(web, question=f"question {number}")).status_code == 200
    refused = web.post("/help/contact?lang=en-US", data=filled(web, question="one more"))
    assert refused.status_code == 429 and "Several messages have been sent from here" in refused.get_data(True)
    assert "one more" in refused.get_data(as_text=True)
    other = line.test_client()
    sent = other.post("/help/contact", data=filled(other), environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert sent.status_code == 200
    assert len(messages(line)) == PER_HOUR + 1


def test_a_finnish_visitor_writes_in_finnish_and_the_message_says_so(line: Flask, web: FlaskClient) -> None:
    sent = web.post("/help/contact?lang=fi-FI", data=filled(web, "/help/contact?lang=fi-FI", question="Voinko noutaa?"))
    assert "Viestisi on asiakaspalvelullamme." in sent.get_data(as_text=True)
    assert messages(line)[0].language == "fi-FI"


def test_without_a_secret_key_the_form_says_messages_cannot_be_sent(tmp_path: Path, template_db: Path) -> None:
    app = make_app(tmp_path, template_db)
    page = app.test_client().get("/help/contact")
    assert page.status_code == 200 and "Messages cannot be sent from this server yet." in page.get_data(True)


@pytest.fixture
def mailed(tmp_path: Path, template_db: Path) -> Iterator[tuple[Flask, Inbox]]:
    """The line with a real (local) SMTP server, aiosmtpd's, keeping what it receives."""
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    app = make_app(tmp_path, template_db, LANGUAGES=LINE, SECRET_KEY="help-secret", SMTP_HOST="127.0.0.1",
                   SMTP_PORT=smtp.port, SMTP_STARTTLS=False, MAIL_FROM="help@northwind.example")  # fmt: skip
    for name in ("ann", "bob"):
        assert app.test_cli_runner().invoke(args=["agents", "create", name], input=PASSWORD + "\n").exit_code == 0
    try:
        yield app, inbox
    finally:
        smtp.stop()
        app.extensions["ivr.db"].engine.dispose()


def test_an_agent_answers_a_web_message_by_email_and_the_history_says_so(mailed: tuple[Flask, Inbox]) -> None:
    line, inbox = mailed
    web = line.test_client()
    web.post("/help/contact", data=filled(web, question="Can I collect it?\nFrom the Helsinki store?"))
    (message,) = messages(line)
    agent = login(line)
    page = agent.get(f"/agent/messages/{message.id}").get_data(as_text=True)
    assert "Answer by e-mail to ada@example.com" in page
    sent = agent.post(f"/agent/messages/{message.id}/reply", data={"reply": "Yes, from any store.",
                      "csrf_token": hidden(page, "csrf_token")}, follow_redirects=True)  # fmt: skip
    assert "Your answer was sent to ada@example.com." in sent.get_data(as_text=True)
    (mail,) = inbox.mails
    received = email.message_from_bytes(mail, policy=email.policy.default)
    assert received["To"] == "ada@example.com" and received["From"] == "help@northwind.example"
    body = received.get_content()
    assert "Yes, from any store." in body and "ann" in body and "> From the Helsinki store?" in body
    with line.app_context(), get_db().reading() as db:
        history = db.scalars(select(MessageHistory.detail).where(MessageHistory.action == "replied")).all()
    assert history == ["by e-mail to ada@example.com: Yes, from any store."]


def test_a_reply_that_cannot_go_keeps_its_text_and_writes_no_history(mailed: tuple[Flask, Inbox]) -> None:
    line, inbox = mailed
    web = line.test_client()
    web.post("/help/contact", data=filled(web))
    (message,) = messages(line)
    bob = login(line, "bob")
    page = bob.get(f"/agent/messages/{message.id}").get_data(as_text=True)
    bob.post(f"/agent/messages/{message.id}/claim", data={"csrf_token": hidden(page, "csrf_token")})
    ann = login(line)
    page = ann.get(f"/agent/messages/{message.id}").get_data(as_text=True)
    refused = ann.post(f"/agent/messages/{message.id}/reply", data={"reply": "My draft answer",
                       "csrf_token": hidden(page, "csrf_token")}, follow_redirects=True)  # fmt: skip
    html = refused.get_data(as_text=True)
    assert "bob holds message" in html and ">My draft answer</textarea>" in html
    line.config["SMTP_PORT"] = free_port()  # nothing listens there
    page = bob.get(f"/agent/messages/{message.id}").get_data(as_text=True)
    failed = bob.post(f"/agent/messages/{message.id}/reply", data={"reply": "Bob's answer",
                      "csrf_token": hidden(page, "csrf_token")}, follow_redirects=True)  # fmt: skip
    html = failed.get_data(as_text=True)
    assert "The e-mail could not be sent" in html and ">Bob&#39;s answer</textarea>" in html
    assert inbox.mails == []
    with line.app_context(), get_db().reading() as db:
        assert not db.scalars(select(MessageHistory).where(MessageHistory.action == "replied")).all()
