"""An agent's answer to a message written on the help centre, by e-mail to the address the visitor
gave, through the line's SMTP server (the notifications' settings). The message's history says who
answered, when and what; a reply that could not be sent is not written there, and the agent keeps
their text."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from ivr.messages.notify import by_smtp
from ivr.models import Message

LONGEST = 5000


class NotSent(Exception):
    """The reply could not be sent; the sentence says why, for the agent."""


def can_reply(message: Message, settings: dict[str, Any]) -> str:
    """Why this message cannot be answered by e-mail from here ("" when it can)."""
    if message.channel != "web" or not message.contact_email:
        return "This message has no e-mail address to answer: call them, or note what you did."
    if not settings.get("SMTP_HOST"):
        return "E-mail is not set up on this line: whoever runs it sets IVR_SMTP_HOST (and IVR_MAIL_FROM)."
    return ""


def compose(message: Message, text: str, agent: str, settings: dict[str, Any]) -> EmailMessage:
    """The e-mail: the agent's words, who they are, and the visitor's question quoted below."""
    company = str(settings.get("COMPANY_NAME") or "")
    sender = str(settings.get("MAIL_FROM") or f"help@{settings.get('SMTP_HOST')}")
    mail = EmailMessage()
    mail["Subject"] = f"Re: your question to {company}" if company else "Re: your question"
    mail["From"] = sender
    mail["Reply-To"] = sender
    mail["To"] = message.contact_email
    quoted = "\n".join(f"> {line}" for line in message.transcript.splitlines())
    mail.set_content(f"{text}\n\n{agent}\n{company}\n\n{quoted}\n")
    return mail


def send(message: Message, text: str, agent: str, settings: dict[str, Any]) -> None:
    """Send the reply; NotSent with a sentence for the agent when it cannot be."""
    why = can_reply(message, settings)
    if why:
        raise NotSent(why)
    if not text:
        raise NotSent("The reply is empty: write your answer, then send it.")
    if len(text) > LONGEST:
        raise NotSent(f"The reply is {len(text)} characters long; the most is {LONGEST}.")
    try:
        by_smtp(compose(message, text, agent, settings), settings)
    except (OSError, ValueError) as error:  # smtplib's errors are OSErrors; a bad header a ValueError
        raise NotSent(
            f"The e-mail could not be sent ({type(error).__name__}: {error}); your reply is kept below."
        ) from None
