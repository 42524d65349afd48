"""'Shall I text you the link?': after an answer, a product or an order status, the caller may press
1 (or say yes) to get a text with the link to that page of the help centre (ivr/texts.py sends it
from the worker). Offered at most once a call, and only where a text can arrive; then the call goes
on where it was going (`text_then`)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.exc import IntegrityError

from ivr import texts
from ivr.flows.actions import Say
from ivr.flows.context import Context
from ivr.flows.nodes import Goto, Handler, Menu, Option
from ivr.flows.state import CallState

# Where an offer may lead back to: the prompt after an answer, a product, an order status.
AFTER = {"faq_helpful": "after an answer", "product_result": "after a product", "order_result": "after an order"}


def offer_text(state: CallState, context: Context, goto: Goto, path: str) -> Goto:
    """`goto` as it is, or, when a text can be sent to this caller and none was offered in this call
    yet, first the offer to text the link to `path` (then on to where `goto` was going)."""
    if (
        goto.next not in AFTER
        or state.collected.get("text_offered")
        or not texts.can_text(context.settings, state.caller)
    ):
        return goto
    offered = {"text_offered": True, "text_then": goto.next, "text_path": path}
    return replace(goto, next="text_offer", remember={**goto.remember, **offered})


def text_send(state: CallState, context: Context) -> Goto:
    """Queue the text with the link, for the worker; on to where the call was going."""
    then = _then(state)
    url = texts.link(context.settings, str(state.collected.get("text_path", "/help/")), state.language)
    body = context.catalog.text(state.language, "text_body", {"link": url}) if context.catalog else url
    try:
        with context.writing() as session:
            texts.queue(session, state.call_sid, state.caller, body, context.now)
    except IntegrityError:  # a Twilio retry of this step: already queued
        pass
    return Goto(then, say=(Say("text_sent"),), forget=("text_then", "text_path"))


def text_declined(state: CallState, context: Context) -> Goto:
    return Goto(_then(state), forget=("text_then", "text_path"))


def _then(state: CallState) -> str:
    then = str(state.collected.get("text_then", ""))
    return then if then in AFTER else "anything_else"


NODES = [
    Menu(
        "text_offer",
        prompt="text_offer",
        options=(Option("1", "yes", goto="text_send"), Option("2", "no", goto="text_declined")),
        help="text_offer_help",
    ),
    Handler("text_send", run=text_send, exits={**AFTER, "anything_else": "lost where it was going"}),
    Handler("text_declined", run=text_declined, exits={**AFTER, "anything_else": "lost where it was going"}),
]

HANDLER_PROMPTS = {"text_sent": set(), "text_body": {"link"}}
