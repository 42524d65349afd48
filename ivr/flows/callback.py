"""'Call me back': where a person was offered and nobody could answer (out of hours, no agent
picked up), or when the caller asks for it, they may be called back instead of leaving a message.

The number is the one they call from (said back by its last four digits) or one they type, read
back digit by digit for them to confirm; a typed number the team may not call (not a number, another
country's, premium rate) is refused and may be typed again. Then when: as soon as someone is free
(in opening hours) or one of the next few times in opening hours, said in the caller's language. The
request goes into the desk's queue with the caller's path and case (ivr/messages/callbacks.py).
"""

from __future__ import annotations

import datetime as dt
import re

from num2words import num2words

from ivr.flows.actions import Say
from ivr.flows.context import Context
from ivr.flows.nodes import Choose, Goto, Handler, Hangup, Menu, NumberEntry, Option
from ivr.flows.state import CallState
from ivr.flows.voicemail import leave_message
from ivr.messages import callbacks
from ivr.spoken import Speaker

# Two numbers the team may not call, and the caller is offered a message instead.
MAX_BAD_NUMBERS = 2
KEPT = ("callback_to", "callback_choices", "callback_chosen", "callback_bad", "callback_typed")


def callback_by_choice(state: CallState, context: Context) -> Goto:
    """The caller asked to be called back (in their own words, at the main menu)."""
    return Goto("callback_start", remember=leave_message("callback_choice", state.node))


def callback_start(state: CallState, context: Context) -> Goto:
    """Their own number first, when the call shows one; else they type one."""
    own = callbacks.caller_number(state.caller)
    if own is None:
        return Goto("callback_type", forget=KEPT)
    last = context.speaker(state.language).digits(own[-4:])
    forget = tuple(key for key in KEPT if key != "callback_to")
    return Goto("callback_same", say=(Say("callback_your_number", {"last": last}),), remember={"callback_to": own},
                forget=forget, repeatable=True)  # fmt: skip


def callback_typed(state: CallState, context: Context) -> Goto:
    """A typed number, read back to be confirmed; one the team may not call is refused."""
    typed = str(state.collected.get("callback_typed", ""))
    spoken = context.speaker(state.language).digits(typed)
    number = callbacks.typed_number(typed, state.caller, context.settings)
    if number is None:
        bad = int(state.collected.get("callback_bad", 0)) + 1
        said = (Say("callback_not_a_number", {"number": spoken}),)
        if bad >= MAX_BAD_NUMBERS:
            return Goto("callback_offer", say=said, forget=("callback_bad", "callback_typed"))
        return Goto("callback_type", say=said, remember={"callback_bad": bad})
    return Goto("callback_confirm", say=(Say("callback_read_back", {"number": spoken}),),
                remember={"callback_to": number}, repeatable=True)  # fmt: skip


def callback_when(state: CallState, context: Context) -> Goto:
    """As soon as someone is free (when the team is working), or the next few times they will be."""
    hours, now = context.hours, context.now
    if hours is None:
        raise RuntimeError("a callback's time needs the opening hours")
    speak = context.speaker(state.language)
    choices = [{"label": speak.word("callback_soon"), "value": callbacks.NOW}] if hours.is_open(now) else []
    for slot in callbacks.slots(hours, now, callbacks.SLOTS if choices else callbacks.SLOTS + 1):
        choices.append(
            {"label": speak.opening(slot, now), "value": slot.isoformat(), "phrases": _time_said(speak, slot)}
        )
    if not choices:  # no opening in the next two weeks: a message is the way on
        return Goto("message_start", say=(Say("callback_no_times"),))
    return Goto("callback_pick", remember={"callback_choices": choices})


def _time_said(speak: Speaker, slot: dt.datetime) -> list[str]:
    """How a caller names a time: "3 PM", and in words, "three PM" (as a recogniser may write it)."""
    time = speak.time(slot.time())
    words = re.sub(r"\d+", lambda m: num2words(int(m.group()), lang=str(speak.about.get("numbers") or "en")), time)
    return list(dict.fromkeys([time, words]))


def callback_book(state: CallState, context: Context) -> Goto:
    """The callback in the team's queue; the caller hears the number and the time once more."""
    hours, now = context.hours, context.now
    if hours is None:
        raise RuntimeError("a callback's time needs the opening hours")
    chosen = str(state.collected.get("callback_chosen", ""))
    try:
        due = callbacks.when_due(hours, now, chosen)
    except callbacks.CallbackError:  # the hours changed since the times were offered
        return Goto("callback_when", say=(Say("callback_time_gone"),))
    to = str(state.collected.get("callback_to", ""))
    asked = callbacks.Request(
        call_sid=state.call_sid,
        caller=state.caller,
        to=to,
        at=due,
        reason=str(state.collected.get("message_reason", "callback_choice")),
        branch=str(state.collected.get("message_from", "")),
        case=str(state.collected.get("problem_case") or ""),
        customer_id=state.verified_customer_id,
        language=state.language,
    )
    with context.writing() as session:
        message = callbacks.request(session, asked, now, (context.settings, hours), context.catalog)
        booked = message.id
    speak = context.speaker(state.language)
    last = speak.digits(to[-4:])
    said = (
        Say("callback_booked_soon", {"last": last})
        if chosen == callbacks.NOW
        else Say("callback_booked_at", {"last": last, "when": speak.opening(hours.local(due), now)})
    )
    return Goto("callback_goodbye", say=(said,), remember={"callback_id": booked}, outcome="message_left")


NODES = [
    Menu(
        "callback_offer",
        prompt="callback_offer",
        options=(
            Option("1", "leave_message", goto="message_start"),
            Option("2", "call_me_back", goto="callback_start"),
            Option("", "nothing_else", goto="declined"),
        ),
        help="callback_offer_help",
        footer="to_main_menu",
        offer=True,
    ),
    Handler("callback_by_choice", run=callback_by_choice, exits={"callback_start": "the caller's choice"}),
    Handler(
        "callback_start",
        run=callback_start,
        exits={"callback_same": "the number they call from", "callback_type": "no number shown"},
    ),
    Menu(
        "callback_same",
        prompt="callback_same",
        options=(Option("1", "yes", goto="callback_when"), Option("2", "another_number", goto="callback_type")),
        help="callback_same_help",
    ),
    NumberEntry(
        "callback_type",
        prompt="callback_type",
        store_as="callback_typed",
        goto="callback_typed",
        min_digits=4,
        max_digits=15,
        help="callback_type_help",
    ),
    Handler(
        "callback_typed",
        run=callback_typed,
        exits={
            "callback_confirm": "a number we may call",
            "callback_type": "not one: type again",
            "callback_offer": "the second one refused",
        },
    ),
    Menu(
        "callback_confirm",
        prompt="callback_confirm",
        options=(Option("1", "yes", goto="callback_when"), Option("2", "no", goto="callback_type")),
        help="callback_confirm_help",
    ),
    Handler(
        "callback_when",
        run=callback_when,
        exits={"callback_pick": "the times we can call", "message_start": "no opening in two weeks"},
    ),
    Choose(
        "callback_pick",
        prompt="callback_pick",
        choices_from="callback_choices",
        store_as="callback_chosen",
        goto="callback_book",
        announce="callback_choice",
        help="callback_pick_help",
        footer="to_main_menu",
    ),
    Handler(
        "callback_book",
        run=callback_book,
        exits={"callback_goodbye": "in the queue", "callback_when": "that time is gone"},
    ),
    Hangup("callback_goodbye", prompt="thanks_goodbye"),
]

HANDLER_PROMPTS = {
    "callback_your_number": {"last"},
    "callback_not_a_number": {"number"},
    "callback_read_back": {"number"},
    "callback_soon": set(),
    "callback_no_times": set(),
    "callback_time_gone": set(),
    "callback_booked_soon": {"last"},
    "callback_booked_at": {"last", "when"},
}
