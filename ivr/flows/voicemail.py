"""Leaving a message: why the caller is here, what to say, a beep, then listen back, again, or send.

Other branches send callers here with `leave_message(...)`, which remembers why (out of hours, no
agent answered, a locked account...) and where they were; the message keeps both. The message is
made as soon as Twilio reports the recording (ivr/messages/record.py), so a caller who hangs up during the
recording or before "send" still leaves it.
"""

from __future__ import annotations

from ivr.flows.actions import Play, Say
from ivr.flows.context import Context
from ivr.flows.nodes import Goto, Handler, Hangup, Menu, Message, Option, Record
from ivr.flows.state import CallState
from ivr.messages.record import Recorded, record_once, replace

REASONS = ("out_of_hours", "no_agent", "failures", "account_locked", "pin_failures", "not_answered", "caller_choice",
           "problem", "not_solved", "callback_choice")  # fmt: skip


def leave_message(reason: str, at: str) -> dict[str, str]:
    """What a branch remembers when it offers the message option: why, and from where."""
    if reason not in REASONS:
        raise ValueError(f"unknown message reason {reason!r}")
    return {"message_reason": reason, "message_from": at}


def message_start(state: CallState, context: Context) -> Goto:
    reason = str(state.collected.get("message_reason", "caller_choice"))
    return Goto("message_record", say=(Say(f"message_why_{reason}"),), forget=("message_draft",))


def message_by_choice(state: CallState, context: Context) -> Goto:
    """The caller asked to leave a message (by voice, at the main menu)."""
    return Goto("message_start", remember=leave_message("caller_choice", state.node))


def message_recorded(state: CallState, context: Context) -> Goto:
    recording = dict(state.collected.get("recording") or {})
    recorded = Recorded(
        call_sid=state.call_sid,
        recording_sid=str(recording.get("sid", "")),
        recording_url=str(recording.get("url", "")),
        duration=int(recording.get("seconds", 0)),
        account_sid=str(context.settings.get("TWILIO_ACCOUNT_SID") or recording.get("account", "")),
    )
    if context.open_writer is None:
        raise RuntimeError("leaving a message needs the database")
    message_id = record_once(context.open_writer, recorded, context.now, context.settings, context.catalog)
    # Recorded again before sending: the earlier recording of this message leaves the queue.
    earlier = state.collected.get("message_draft")
    if earlier is not None and earlier != message_id:
        with context.writing() as session:
            replace(session, int(earlier), recorded.recording_sid)
    remember = {"message_id": message_id, "message_draft": message_id}
    return Goto("message_review", say=(Say("message_got_it"),), remember=remember, outcome="message_left")


def message_playback(state: CallState, context: Context) -> Goto:
    url = str((state.collected.get("recording") or {}).get("url", ""))
    return Goto("message_review", say=(Play(url),) if url else ())


def message_sent(state: CallState, context: Context) -> Goto:
    hours, now = context.hours, context.now
    if hours is None or now is None:
        raise RuntimeError("the call back time needs the opening hours and the clock")
    speak = context.speaker(state.language)
    when = speak.word("day_today") if hours.is_open(now) else speak.opening(hours.next_opening(now), now)
    prompt = "message_sent_open" if hours.is_open(now) else "message_sent_closed"
    return Goto("message_goodbye", say=(Say(prompt, {"when": when}),), forget=("message_draft",))


NODES = [
    Menu(
        "message_offer",
        prompt="message_offer",
        options=(Option("1", "leave_message", goto="message_start"), Option("", "nothing_else", goto="declined")),
        help="message_offer_help",
        footer="to_main_menu",
        offer=True,
    ),
    Handler("message_start", run=message_start, exits={"message_record": "why, then the beep"}),
    Handler("message_by_choice", run=message_by_choice, exits={"message_start": "the caller's choice"}),
    Record(
        "message_record",
        prompt="message_instructions",
        after="message_recorded",
        empty="message_empty",
        max_length_setting="VOICEMAIL_MAX_SECONDS",
        timeout_setting="VOICEMAIL_SILENCE_SECONDS",
    ),
    Handler("message_recorded", run=message_recorded, exits={"message_review": "kept"}),
    Menu(
        "message_review",
        prompt="message_review",
        options=(
            Option("1", "listen", goto="message_playback"),
            Option("2", "record_again", goto="message_record"),
            Option("3", "send", goto="message_sent"),
        ),
        help="message_review_help",
    ),
    Handler("message_playback", run=message_playback, exits={"message_review": "played back"}),
    Handler("message_sent", run=message_sent, exits={"message_goodbye": "when we call back"}),
    Hangup("message_goodbye", prompt="thanks_goodbye"),
    Message("message_empty", prompt="message_empty", goto="message_retry"),
    Menu(
        "message_retry",
        prompt="message_retry",
        options=(Option("1", "try_again", goto="message_record"), Option("", "nothing_else", goto="declined")),
        help="message_offer_help",
        footer="to_main_menu",
        offer=True,
    ),
]

HANDLER_PROMPTS = {f"message_why_{reason}": set() for reason in REASONS} | {
    "message_got_it": set(),
    "message_sent_open": {"when"},
    "message_sent_closed": {"when"},
}
