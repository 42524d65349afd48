"""Messages written on the help centre's form: into the same queue as voice messages, with the same
claim, note and done rules, found by the same search, told to the team the same way.

A written message has no audio (`audio_status` "none") and its transcript is what the visitor wrote,
so the worker never has a job for it. Each form carries its own id: the same form sent twice (a double
click, a reload) is one message. How many one address may send in an hour is counted on a keyed hash
of the address, never the address itself."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.messages import notify, search
from ivr.models import Message, MessageHistory
from ivr.prompts import Catalog

# A form's id, as the form page makes it (secrets.token_urlsafe): anything else is refused.
FORM_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
# At most this many messages from one address in an hour.
PER_HOUR = 5
LONGEST = 2000


@dataclass(frozen=True)
class Written:
    """What a visitor sent: checked by the form (ivr/web/contact.py) before it comes here."""

    form_id: str
    text: str
    language: str
    name: str = ""
    email: str = ""
    phone: str = ""
    order: str = ""
    source: str = ""


def source_of(address: str, secret: str) -> str:
    """A keyed hash of the sender's address: enough to count their messages, not to know them."""
    return hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]


def sent_lately(session: Session, source: str, now: dt.datetime) -> int:
    """How many messages the address behind `source` sent in the last hour."""
    since = now - dt.timedelta(hours=1)
    return (
        session.scalar(
            select(func.count()).select_from(Message).where(Message.source == source, Message.created_at >= since)
        )
        or 0
    )


def already(session: Session, form_id: str) -> Message | None:
    """The message this form made, when it was sent before."""
    return session.scalar(select(Message).where(Message.recording_sid == f"web-{form_id}"))


def write_message(
    session: Session, written: Written, now: dt.datetime, settings: dict[str, Any], catalog: Catalog | None = None
) -> Message:
    """The message for a form sent from the help centre, in the queue and told to the team."""
    message = Message(
        recording_sid=f"web-{written.form_id}",
        call_sid=f"web-{written.form_id}",
        recording_url="",
        channel="web",
        caller=written.phone,
        contact_name=written.name,
        contact_email=written.email,
        source=written.source,
        branch="help_centre",
        reason="web_message",
        case=f"order {written.order}" if written.order else "",
        path=[],
        language=written.language,
        created_at=now,
        audio_status="none",
        transcript=written.text,
        transcript_status="done",
        next_try_at=None,
    )
    search.refresh(session, message, catalog)
    message.search_text = " ".join(
        [message.search_text, *search.words(f"{written.name} {written.email}", search.language_words("en-US"))]
    )
    session.add(message)
    session.flush()  # the form's id is unique here
    session.add(MessageHistory(message_id=message.id, action="left", detail="written on the help centre", at=now))
    notify.schedule(session, message, settings)
    return message
