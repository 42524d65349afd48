"""The phone, a channel at the edge: Twilio's voice webhooks (webhooks.py) read each request within
limits and check its signature (signature.py), let the call flow's engine decide, and answer TwiML
(twiml.py, the only module that builds it)."""

from __future__ import annotations

from ivr.voice.webhooks import init_app

__all__ = ["init_app"]
