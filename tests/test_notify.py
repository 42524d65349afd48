"""The team is told a message waits: an e-mail through a real SMTP server (aiosmtpd) and a signed
JSON POST to a local receiver, sent by the worker after a short delay, retried with its back-off."""

from __future__ import annotations

import hashlib
import hmac
import json
from email import message_from_bytes
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from ivr.db import get_db
from ivr.messages.notify import ATTEMPTS
from ivr.models import Message, MessageHistory, Notification
from tests.conftest import free_port, make_app
from tests.helpers import SECRET, leave_message, team, work

__all__ = ["team"]


def states(app: Flask) -> list[tuple[str, str, int]]:
    with app.app_context(), get_db().reading() as session:
        return [
            (n.channel, n.status, n.attempts) for n in session.scalars(select(Notification).order_by(Notification.id))
        ]


def test_the_team_gets_an_email_and_a_signed_post_a_minute_after_a_message(team) -> None:  # type: ignore[no-untyped-def]
    app, inbox, receiver = team
    message_id = leave_message(app)
    assert states(app) == [("email", "pending", 0), ("webhook", "pending", 0)]
    work(app, 30)
    assert inbox.mails == [] and receiver.got == []  # not yet: the caller may record it again
    work(app, 61)
    assert states(app) == [("email", "sent", 1), ("webhook", "sent", 1)]
    [raw] = inbox.mails
    mail = message_from_bytes(raw)
    assert mail["Subject"] == "New voice message from Ada Lovelace (+15550100001): out of hours"
    assert mail["To"] == "team@example.com, lead@example.com" and mail["From"] == "ivr@example.com"
    assert f"/agent/messages/{message_id}" in mail.get_payload()
    [(headers, body)] = receiver.got
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-IVR-Signature"] == expected
    said = json.loads(body)
    assert said["event"] == "message.left" and said["message_id"] == message_id
    assert said["caller"] == "+15550100001" and said["customer"]["name"] == "Ada Lovelace"
    assert said["reason"] == "out of hours" and said["link"].endswith(f"/agent/messages/{message_id}")
    work(app, 3600)
    assert len(inbox.mails) == 1 and len(receiver.got) == 1  # once


def test_a_failed_notification_is_tried_again_then_given_up_in_the_history(team) -> None:  # type: ignore[no-untyped-def]
    app, inbox, receiver = team
    receiver.status = 500
    app.config["SMTP_PORT"] = free_port()  # nobody listens there
    message_id = leave_message(app)
    work(app, 61)
    assert states(app) == [("email", "pending", 1), ("webhook", "pending", 1)]
    with app.app_context(), get_db().reading() as session:
        errors = [n.error for n in session.scalars(select(Notification).order_by(Notification.id))]
    assert "ConnectionRefusedError" in errors[0] and errors[1] == "the webhook answered HTTP 500"
    work(app, 62)
    assert states(app)[1][2] == 1  # the back-off: not again at once
    receiver.status = 200
    work(app, 61 + 16)
    assert states(app)[1] == ("webhook", "sent", 2) and len(receiver.got) == 2
    for n in range(ATTEMPTS):
        work(app, 61 + 3600 * (n + 1))
    assert states(app)[0] == ("email", "failed", ATTEMPTS)
    with app.app_context(), get_db().reading() as session:
        told = session.scalars(select(MessageHistory).where(MessageHistory.message_id == message_id)).all()
        assert any(h.action == "not told" and "email failed after 8 tries" in h.detail for h in told)
    assert inbox.mails == []


def test_a_message_recorded_again_is_told_once(team) -> None:  # type: ignore[no-untyped-def]
    app, inbox, receiver = team
    leave_message(app, "message_re_recorded.yaml")
    work(app, 61)
    with app.app_context(), get_db().reading() as session:
        statuses = {m.id: m.status for m in session.scalars(select(Message))}
    assert sorted(s for _c, s, _a in states(app)) == ["sent", "sent", "skipped", "skipped"]
    assert len(inbox.mails) == 1 and len(receiver.got) == 1
    assert json.loads(receiver.got[0][1])["message_id"] == next(i for i, s in statuses.items() if s != "replaced")


def test_without_settings_nobody_is_told_and_nothing_waits(tmp_path: Path, template_db: Path) -> None:
    app = make_app(tmp_path, template_db)
    leave_message(app)
    assert states(app) == []


def test_a_name_that_would_forge_mail_headers_sends_nothing_and_counts(team) -> None:  # type: ignore[no-untyped-def]
    from ivr.models import Customer

    app, inbox, receiver = team
    with app.app_context(), get_db().transaction() as session:
        ada = session.scalar(select(Customer).where(Customer.phone == "+15550100001"))
        assert ada is not None
        ada.name = "Ada\nBcc: everyone@example.com"
    leave_message(app)
    work(app, 61)
    assert states(app) == [("email", "pending", 1), ("webhook", "sent", 1)]
    assert inbox.mails == []
    with app.app_context(), get_db().reading() as session:
        assert "ValueError" in session.scalars(select(Notification.error)).first()
