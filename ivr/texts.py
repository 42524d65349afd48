"""Text messages to callers: a link to the help centre's page for what they just heard (an answer,
a product, their order), sent by the worker, never in the way of a call.

Offered only where it can arrive: a number to send from (IVR_SMS_FROM) on an account
(IVR_TWILIO_ACCOUNT_SID), a public address for the link (IVR_PUBLIC_URL), and a caller's number that can take a text as far as the number shows (a mobile
number, or one of the plans, such as North America's, where a number does not tell mobile from fixed).
At most one per call: the table holds one row per call. Sent through Twilio's Messages API with the
`twilio` package, from the worker, tried again after a pause when it fails (TEXT_ATTEMPTS in all).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioException
from twilio.http import HttpClient
from twilio.rest import Client

from ivr import caller_id
from ivr.models import TextMessage

TEXT_ATTEMPTS = 5
# Number types a text can reach (phonenumbers' own): mobile, or a plan where the number cannot say.
TEXTABLE = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


class NotSent(Exception):
    """A text Twilio did not take (it is tried again later); its words are the reason."""


def can_text(settings: dict[str, Any], caller: str) -> bool:
    """Whether a text may be offered to `caller` on this line."""
    if not settings.get("SMS_FROM") or not settings.get("TWILIO_ACCOUNT_SID"):
        return False
    if not str(settings.get("PUBLIC_URL", "")).startswith(("https://", "http://")):
        return False
    if caller_id.hidden(caller):
        return False
    try:
        number = phonenumbers.parse(caller, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in TEXTABLE


def link(settings: dict[str, Any], path: str, language: str) -> str:
    """The help centre's page at `path` (ours, never from a request), in the caller's language."""
    return f"{str(settings['PUBLIC_URL']).rstrip('/')}{path}?{urlencode({'lang': language})}"


def queue(session: Session, call_sid: str, to: str, body: str, now: dt.datetime) -> bool:
    """The text, for the worker to send; False when this call already has one."""
    if session.scalar(select(TextMessage.id).where(TextMessage.call_sid == call_sid)) is not None:
        return False
    session.add(TextMessage(call_sid=call_sid, to_number=to[:32], body=body, status="pending", next_try_at=now))
    return True


def send(text: TextMessage, settings: dict[str, Any], http_client: HttpClient | None = None) -> str:
    """Hand the text to Twilio; the message's SID. NotSent with the reason when it is refused."""
    client = Client(settings.get("TWILIO_ACCOUNT_SID") or None, settings.get("TWILIO_AUTH_TOKEN") or None,
                    http_client=http_client)  # fmt: skip
    try:
        sent = client.messages.create(to=text.to_number, from_=settings["SMS_FROM"], body=text.body)
    except (TwilioException, OSError) as error:
        raise NotSent(str(error)[:500]) from None
    return str(sent.sid)
