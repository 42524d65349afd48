"""Call a caller back from the queue: Twilio rings the agent's phone, then connects the caller.

This is the only code that talks to Twilio's REST API; it goes through the twilio library's
HttpClient, which tests replace (app.extensions["ivr.twilio_http"]) so nothing reaches the internet.
"""

from __future__ import annotations

from typing import Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.rest import Client

from ivr.errors import IVRError
from ivr.models import Agent
from ivr.voice import twiml


class CallBackError(IVRError):
    """Why a call-back was not made, said to the agent; `upstream`: Twilio's part (the API's 502)."""

    def __init__(self, message: str, upstream: bool = False) -> None:
        super().__init__(message)
        self.upstream = upstream


def missing(settings: dict[str, Any], agent: Agent) -> str | None:
    """Why click-to-call is not available, naming only what is really missing (None: it is)."""
    unset = [f"IVR_{name}" for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "PHONE_NUMBER")
             if not settings.get(name)]  # fmt: skip
    if unset:
        return (f"Click-to-call is not set up on this line: whoever runs it sets {' and '.join(unset)}."
                " Meanwhile, call with the phone link.")  # fmt: skip
    if not agent.phone:
        return (f"Click-to-call rings your phone first, and {agent.name} has no phone number yet: whoever runs"
                f" the line adds it (agents phone {agent.name} +1...). Meanwhile, call with the phone link.")  # fmt: skip
    return None


def hint(settings: dict[str, Any], agent: Agent) -> str | None:
    """What a message page says when click-to-call is not available: to a supervisor, what is missing
    (settings, a phone); to an agent, what to do, without the server's settings."""
    why = missing(settings, agent)
    if why is None or agent.role == "supervisor":
        return why
    if settings.get("TWILIO_ACCOUNT_SID") and settings.get("TWILIO_AUTH_TOKEN") and settings.get("PHONE_NUMBER"):
        return "Click-to-call needs your phone number: ask a supervisor to add it. Meanwhile, call with the phone link."
    return "Click-to-call is not set up; call with the phone link."


def call_back(settings: dict[str, Any], http_client: HttpClient | None, agent: Agent, caller: str) -> str:
    """Ring the agent from the IVR's number; when they answer, dial the caller. The call's SID."""
    why = missing(settings, agent)
    if why:
        raise CallBackError(why)
    if not caller:
        raise CallBackError(
            "The caller's number is unknown (they called with it hidden), so there is no one to call back."
        )
    bridged = twiml.bridge(caller, settings["PHONE_NUMBER"])
    client = Client(settings["TWILIO_ACCOUNT_SID"], settings["TWILIO_AUTH_TOKEN"], http_client=http_client)
    try:
        call = client.calls.create(to=agent.phone, from_=settings["PHONE_NUMBER"], twiml=bridged)
    except TwilioRestException as error:
        raise CallBackError(
            f"Twilio refused the call ({error.msg}). Try again, or call {caller} with the phone link.", upstream=True
        ) from None
    except (TwilioException, requests.RequestException, OSError):
        raise CallBackError(
            f"Twilio could not be reached, so the call was not made. Try again in a minute, or call {caller}"
            " with the phone link.",
            upstream=True,
        ) from None
    return str(call.sid)
