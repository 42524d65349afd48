"""Telling the team that a message waits: an e-mail and/or a JSON POST per message.

A notification is written with the message (the same transaction: none is lost) and sent by the
worker once IVR_NOTIFY_DELAY_SECONDS have passed, so that a caller who records the message again
causes one notification, not two, and the transcript is usually there to include. A failure is
tried again with the worker's back-off; nothing here is ever in the way of a call. The addresses
and the URL are the operator's settings: nothing a request carries chooses where anything goes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import smtplib
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr import caller_id
from ivr.deadline import Deadline
from ivr.hours import OpeningHours
from ivr.messages import words
from ivr.models import Customer, Message, Notification, as_utc

log = logging.getLogger(__name__)
ATTEMPTS = 8
TIMEOUT_SECONDS = 15
# A whole send, however slowly the other side answers: well within the worker's lease (5 minutes).
SEND_DEADLINE_SECONDS = 60


class NotSent(Exception):
    pass


def channels(settings: dict[str, Any]) -> list[str]:
    """The channels this line has set up."""
    found = []
    if settings.get("NOTIFY_EMAIL") and settings.get("SMTP_HOST"):
        found.append("email")
    if settings.get("NOTIFY_WEBHOOK_URL"):
        found.append("webhook")
    return found


def schedule(session: Session, message: Message, settings: dict[str, Any]) -> None:
    """A notification per channel, due a little after the message was left."""
    due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=int(settings.get("NOTIFY_DELAY_SECONDS", 60)))
    for channel in channels(settings):
        session.add(Notification(message_id=message.id, channel=channel, next_try_at=due))


def facts(session: Session, message: Message, settings: dict[str, Any]) -> dict[str, Any]:
    """What a notification says: who called, why, when, the transcript if there is one, and a link."""
    customer = session.get(Customer, message.customer_id) if message.customer_id is not None else None
    if customer is None and message.caller:
        customer = session.scalar(select(Customer).where(Customer.phone == message.caller))
    base = str(settings.get("PUBLIC_URL") or "").rstrip("/")
    # Why there is no transcript and will be none (no speech model hears the language), else null.
    note = words.no_model_note(message.language) if message.transcript_status == "no_model" else None
    return {
        "message_id": message.id,
        "left_at": as_utc(message.created_at).isoformat(),
        "caller": None if caller_id.hidden(message.caller or "") else message.caller,  # null: number hidden
        "customer": {
            "name": customer.name,
            "account": customer.account_number,
            "verified": message.customer_id is not None,
        }
        if customer
        else None,  # fmt: skip
        "reason": words.REASONS.get(message.reason, message.reason),
        "case": message.case or None,
        "duration_seconds": message.duration_seconds,
        # The caller's language ("lv-LV"): who should call back.
        "language": message.language,
        "transcript": message.transcript if message.transcript_status == "done" else None,
        "transcript_note": note,
        "link": f"{base}/agent/messages/{message.id}",
        # A request to be called back (no voice message): the number, and when (null: as soon as someone is free).
        "callback": {
            "number": message.callback_to,
            "at": as_utc(message.callback_at).isoformat() if _chosen(message) else None,
        }
        if message.channel == "callback"
        else None,  # fmt: skip
    }


def _chosen(message: Message) -> bool:
    """A callback for a time the caller chose (not "as soon as someone is free")."""
    at = message.callback_at
    return at is not None and as_utc(at) > as_utc(message.created_at)


def send(channel: str, said: dict[str, Any], settings: dict[str, Any]) -> None:
    """Send one notification; NotSent with a sentence when it did not go."""
    try:
        if channel == "email":
            _email(said, settings)
        elif channel == "webhook":
            _webhook(said, settings)
        else:
            raise NotSent(f"unknown channel {channel!r}")
    except NotSent:
        raise
    except Exception as error:  # whatever it is, the attempt counts: a notification always ends
        raise NotSent(f"{type(error).__name__}: {error}"[:300]) from None


def _email(said: dict[str, Any], settings: dict[str, Any]) -> None:
    who = said["customer"]["name"] if said["customer"] else "an unknown caller"
    mail = EmailMessage()
    asked = said.get("callback")
    what = "Callback requested by" if asked else "New voice message from"
    mail["Subject"] = f"{what} {who} ({said['caller'] or 'number hidden'}): {said['reason']}"
    mail["From"] = settings.get("MAIL_FROM") or f"ivr@{settings.get('SMTP_HOST')}"
    mail["To"] = ", ".join(a.strip() for a in str(settings["NOTIFY_EMAIL"]).split(",") if a.strip())
    when = _when(asked["at"], settings) if asked and asked["at"] else "as soon as someone is free"
    lines = [
        f"{who} asked to be called back on {asked['number']}, {when} ({said['reason']})."
        if asked
        else f"{who} left a {said['duration_seconds']} s message ({said['reason']}).",
        f"Caller: {said['caller'] or 'number hidden'}"
        + (f", account {said['customer']['account']}" if said["customer"] else ""),
        f"Left: {said['left_at']}",
        f"Language: {words.language_name(said['language'])}",
        *([f"The case: {said['case']}"] if said.get("case") else []),
        "",
        "No voice message: call them back."
        if asked
        else f"Transcript: {said['transcript']}"
        if said["transcript"]
        else said["transcript_note"] or "The transcript is not ready yet.",
        "",
        f"Open it in the queue: {said['link']}",
    ]
    mail.set_content("\n".join(lines))
    by_smtp(mail, settings)


def _when(iso: str, settings: dict[str, Any]) -> str:
    """A time chosen for a callback on the line's clock: "at Wed 25 Nov 10:00 EST"."""
    hours = OpeningHours.from_settings(settings)
    return "at " + hours.local(dt.datetime.fromisoformat(iso)).strftime("%a %d %b %H:%M %Z")


def by_smtp(mail: EmailMessage, settings: dict[str, Any]) -> None:
    """Send `mail` through the line's SMTP server (IVR_SMTP_*): within TIMEOUT_SECONDS a step, and
    SEND_DEADLINE_SECONDS in all, however slowly the server answers."""
    with Deadline(SEND_DEADLINE_SECONDS, "the mail server") as deadline:
        try:
            with _WatchedSMTP(deadline, timeout=TIMEOUT_SECONDS) as smtp:
                smtp.connect(str(settings["SMTP_HOST"]), int(settings.get("SMTP_PORT", 587)))
                if settings.get("SMTP_STARTTLS", True):
                    smtp.starttls()
                if settings.get("SMTP_USER"):
                    smtp.login(str(settings["SMTP_USER"]), str(settings.get("SMTP_PASSWORD", "")))
                smtp.send_message(mail)
        except Exception:
            if deadline.passed():  # whatever broke, the deadline broke it
                raise deadline.refusal() from None
            raise


class _WatchedSMTP(smtplib.SMTP):
    """smtplib's client, its connection watched by a deadline from the moment it is made."""

    def __init__(self, deadline: Deadline, **kwargs: Any) -> None:
        self.deadline = deadline
        super().__init__(**kwargs)

    def _get_socket(self, host, port, timeout):  # type: ignore[no-untyped-def]
        sock = super()._get_socket(host, port, timeout)
        self.deadline.watch(sock)
        return sock


def _webhook(said: dict[str, Any], settings: dict[str, Any]) -> None:
    event = "callback.requested" if said.get("callback") else "message.left"
    body = json.dumps({"event": event, **said}).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "ivr-notify"}
    secret = str(settings.get("NOTIFY_WEBHOOK_SECRET") or "")
    if secret:
        headers["X-IVR-Signature"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    with Deadline(SEND_DEADLINE_SECONDS, "the webhook") as deadline, deadline.session() as session:
        try:
            reply = session.post(str(settings["NOTIFY_WEBHOOK_URL"]), data=body, headers=headers,
                                 timeout=deadline.read_timeout(TIMEOUT_SECONDS), allow_redirects=False)  # fmt: skip
        except Exception:
            if deadline.passed():
                raise deadline.refusal() from None
            raise
        if deadline.passed():  # an answer cut at the deadline may read as whole: a 200 it never sent
            raise deadline.refusal()
    if not 200 <= reply.status_code < 300:
        raise NotSent(f"the webhook answered HTTP {reply.status_code}")
