"""Call a caller back from the queue: Twilio rings the agent's phone, then connects the caller.

This is the only code that talks to Twilio's REST API; it goes through the twilio library's
HttpClient, which tests replace (app.extensions["ivr.twilio_http"]) so nothing reaches the internet.
"""

from __future__ import annotations

from typing import Any

import requests
from twilio.base.exceptions import TwilioException
from twilio.http import HttpClient
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from ivr.errors import IVRError
from ivr.models import Agent


class CallBackError(IVRError):
    pass


def missing(settings: dict[str, Any], agent: Agent) -> str | None:
    """Why click-to-call is not available (None: it is)."""
    if not (settings.get("TWILIO_ACCOUNT_SID") and settings.get("TWILIO_AUTH_TOKEN")):
        return "set IVR_TWILIO_ACCOUNT_SID and IVR_TWILIO_AUTH_TOKEN"
    if not settings.get("PHONE_NUMBER"):
        return "set IVR_PHONE_NUMBER (the IVR's Twilio number)"
    if not agent.phone:
        return f"agent {agent.name} has no phone number (agents create --phone)"
    return None


def call_back(settings: dict[str, Any], http_client: HttpClient | None, agent: Agent, caller: str) -> str:
    """Ring the agent from the IVR's number; when they answer, dial the caller. The call's SID."""
    why = missing(settings, agent)
    if why:
        raise CallBackError(f"click-to-call is not set up: {why}")
    if not caller:
        raise CallBackError("the caller's number is unknown")
    bridge = VoiceResponse()
    bridge.say("Connecting you to the caller who left the message.")
    bridge.dial(caller_id=settings["PHONE_NUMBER"]).number(caller)
    client = Client(settings["TWILIO_ACCOUNT_SID"], settings["TWILIO_AUTH_TOKEN"], http_client=http_client)
    try:
        call = client.calls.create(to=agent.phone, from_=settings["PHONE_NUMBER"], twiml=str(bridge))
    except (TwilioException, requests.RequestException, OSError) as error:
        raise CallBackError(f"Twilio refused the call: {error}") from None
    return str(call.sid)
