"""A person (main menu 0): in opening hours the call is transferred to the agents' line; out of
hours, on a holiday, or when nobody answers, the caller hears when to call back.

(The voicemail issue adds leaving a message to each of those ways.)
"""

from __future__ import annotations

from ivr.flows.context import Context
from ivr.flows.nodes import CallState, Goto, Handler, Hangup, Say, Transfer
from ivr.flows.voicemail import leave_message
from ivr.hours import spoken_opening

ANSWERED = "completed"


def agent_hours(state: CallState, context: Context) -> Goto:
    """Transfer in opening hours; otherwise say the hours and when agents are next there."""
    hours, now = context.hours, context.now
    if hours is None or now is None:
        raise RuntimeError("the agents' line needs the opening hours and the clock in the context")
    if hours.is_open(now) and context.settings.get("AGENTS_NUMBER"):
        return Goto("transfer_to_agent")
    values = {"hours": hours.describe(), "next": spoken_opening(hours.next_opening(now), now)}
    prompt = "closed_holiday" if hours.is_holiday(now) else "closed_now"
    return Goto("message_offer", say=(Say(prompt, values),), remember=leave_message("out_of_hours", "agent_hours"))


def after_transfer(state: CallState, context: Context) -> Goto:
    """The agent answered and the call is over, or nobody could take it."""
    if state.collected.get("transfer_status") == ANSWERED:
        return Goto("call_finished")
    remember = leave_message("no_agent", "transfer_to_agent")
    return Goto("message_offer", say=(Say("agents_unavailable"),), remember=remember)


NODES = [
    Handler("agent_hours", run=agent_hours, exits=("transfer_to_agent", "message_offer")),
    Transfer(
        "transfer_to_agent",
        prompt="transferring",
        number_setting="AGENTS_NUMBER",
        timeout_setting="TRANSFER_TIMEOUT",
        after="after_transfer",
    ),
    Handler("after_transfer", run=after_transfer, exits=("call_finished", "message_offer")),
    Hangup("call_finished", prompt="thanks_goodbye"),
]

HANDLER_PROMPTS = {"closed_now", "closed_holiday", "agents_unavailable"}
