"""A person: in opening hours the call is transferred to the agents' line; out of hours, on a
holiday, or when nobody answers, the caller hears when the team is back and may leave a message or
be called back (ivr/flows/callback.py).

Repeated failures at a prompt lead here too (`after_failures`): a person first in opening hours,
then a message; out of hours the message; and a caller who already got what they came for is
simply said goodbye to.
"""

from __future__ import annotations

from ivr.flows.actions import Say
from ivr.flows.context import Context
from ivr.flows.nodes import Goto, Handler, Hangup, Transfer
from ivr.flows.state import CallState
from ivr.flows.voicemail import leave_message

ANSWERED = "completed"


def agents_answer(context: Context) -> bool:
    hours, now = context.hours, context.now
    if hours is None or now is None:
        raise RuntimeError("the agents' line needs the opening hours and the clock in the context")
    return hours.is_open(now) and bool(context.settings.get("AGENTS_NUMBER"))


def agent_hours(state: CallState, context: Context) -> Goto:
    """Transfer in opening hours; otherwise say the hours and when agents are next there. A caller who
    asks for a person did not get what they need from the line, whatever they heard before."""
    if agents_answer(context):
        return Goto("transfer_to_agent", not_helped=True)
    said = (_closed(context, state.language),)
    return Goto("callback_offer", say=said, remember=leave_message("out_of_hours", "agent_hours"), not_helped=True)


def _closed(context: Context, language: str) -> Say:
    hours, now, speak = context.hours, context.now, context.speaker(language)
    assert hours is not None
    values = {"hours": speak.hours(hours), "next": speak.opening(hours.next_opening(now), now)}
    return Say("closed_holiday" if hours.is_holiday(now) else "closed_now", values)


def after_transfer(state: CallState, context: Context) -> Goto:
    """The agent answered and the call is over, or nobody could take it."""
    if state.collected.get("transfer_status") == ANSWERED:
        return Goto("call_finished", outcome="transferred")
    remember = leave_message("no_agent", "transfer_to_agent")
    return Goto("callback_offer", say=(Say("agents_unavailable"),), remember=remember)


def after_failures(state: CallState, context: Context) -> Goto:
    """Three misses at one prompt: each way out is offered once per call, a person before a message."""
    if state.collected.get("helped"):
        return Goto("goodbye")
    tried = list(state.collected.get("failures_tried") or [])
    failed_at = str(state.collected.get("failed_at", ""))
    if "agent" not in tried and agents_answer(context):
        remember = {"failures_tried": [*tried, "agent"]}
        return Goto("transfer_to_agent", say=(Say("failures_to_agent"),), remember=remember)
    if "message" not in tried and state.collected.get("message_id") is None:
        remember = {"failures_tried": [*tried, "message"], **leave_message("failures", failed_at)}
        return Goto("message_start", remember=remember)
    return Goto("too_many_failures")


NODES = [
    Handler(
        "agent_hours",
        run=agent_hours,
        exits={"transfer_to_agent": "open", "callback_offer": "closed: when we are back"},
    ),
    Transfer(
        "transfer_to_agent",
        prompt="transferring",
        number_setting="AGENTS_NUMBER",
        timeout_setting="TRANSFER_TIMEOUT",
        after="after_transfer",
    ),
    Handler(
        "after_transfer",
        run=after_transfer,
        exits={"call_finished": "an agent answered", "callback_offer": "nobody answered"},
    ),
    Hangup("call_finished", prompt="thanks_goodbye"),
    Handler(
        "after_failures",
        run=after_failures,
        exits={
            "goodbye": "already helped",
            "transfer_to_agent": "a person (open, not yet tried)",
            "message_start": "a message (none left yet)",
            "too_many_failures": "both tried",
        },
    ),
]

HANDLER_PROMPTS = {"closed_now": {"hours", "next"}, "closed_holiday": {"hours", "next"}, "agents_unavailable": set(),
                   "failures_to_agent": set()}  # fmt: skip
