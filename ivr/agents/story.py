"""What the caller did, as an agent reads it: "asked for a person · nobody answered · left a message".

A message keeps the caller's way through the call as `node: meaning` entries (the call's event
log, kept with the message). These are the flow's own names; this module says them in words.
"""

from __future__ import annotations

from itertools import groupby

# Where a step was, for the steps that need saying where.
PLACES = {
    "main_menu": "the main menu",
    "order_number": "the order number",
    "order_result": "the order",
    "account_who": "the account question",
    "account_number": "the account number",
    "account_menu": "the account menu",
    "pin_entry": "the PIN",
    "pin_last_try": "the last PIN try",
    "faq_ask": "the questions",
    "faq_pick": "the answers offered",
    "faq_refine": "the narrowing question",
    "faq_other_words": "the question",
    "faq_helpful": "the answer",
    "faq_more": "the answer",
    "faq_again": "the questions",
    "ask_again": "the question",
    "message_offer": "the offer of a message",
    "message_review": "the message review",
    "message_retry": "the message",
    "message_record": "the recording",
    "transfer_to_agent": "the transfer",
    "callback_offer": "the offer of a callback",
    "callback_same": "the number to call back",
    "callback_type": "the number to call back",
    "callback_confirm": "the number typed",
    "callback_pick": "the times offered",
}

# What an answer meant, wherever it was given ({at}: " at " and the place).
MEANINGS = {
    "agent": "asked for a person{at}",
    "main_menu": "went back to the main menu",
    "repeat": "asked to hear it again",
    "help": "asked for help{at}",
    "goodbye": "said goodbye",
    "question": "asked a question in their own words",
    "no_match": "was not understood{at}",
    "no_input": "said nothing{at}",
    "too_many_failures": "gave up{at}",
    "recorded": "left a message",
    "empty": "recorded nothing",
    # Twilio's DialCallStatus, after a transfer
    "completed": "spoke with an agent",
    "answered": "spoke with an agent",
    "no-answer": "nobody answered",
    "busy": "every agent was busy",
    "failed": "the transfer failed",
    "canceled": "the transfer was cancelled",
    # the flow's options
    "order_status": "asked about an order",
    "account": "asked about their account",
    "questions": "had a question",
    "leave_message": "chose to leave a message",
    "call_me_back": "asked to be called back",
    "another_number": "gave another number to call",
    "send": "sent the message",
    "record_again": "recorded it again",
    "listen": "listened to their message",
    "try_again": "tried again",
    "another_order": "asked about another order",
    "another_question": "asked another question",
    "open_orders": "asked for their open orders",
    "new_account": "asked how to open an account",
    "have_account": "said they have an account",
    "enter_pin": "chose to enter their PIN",
    "account_repeat": "heard their account again",
    "ask_again": "asked again",
    "nothing_else": "had nothing else",
}

# An answer whose meaning depends on the question.
IN_CONTEXT = {
    ("faq_helpful", "yes"): "said the answer helped",
    ("faq_helpful", "no"): "said the answer did not help",
    ("faq_more", "yes"): "wanted more",
    ("faq_more", "no"): "wanted nothing more",
    ("callback_same", "yes"): "kept their own number for the callback",
    ("callback_confirm", "yes"): "confirmed the number typed",
    ("callback_confirm", "no"): "typed the number again",
    ("callback_pick", "now"): "chose to be called as soon as someone is free",
}


def place(node: str) -> str:
    """Where in the call a node is, in words ("" for one that is not a place a caller answers at)."""
    return PLACES.get(node, "")


def story(path: list[str]) -> list[str]:
    """Each step in words; the same step several times in a row is said once, with how many times."""
    said = [_step(entry) for entry in path]
    return [f"{step} ({len(run)} times)" if len(run := list(group)) > 1 else step for step, group in groupby(said)]


def _step(entry: str) -> str:
    node, _, meaning = entry.partition(": ")
    place = PLACES.get(node, node.replace("_", " "))
    if (node, meaning) in IN_CONTEXT:
        return IN_CONTEXT[(node, meaning)]
    if node == "callback_pick":  # the meaning is the time chosen, as a value
        return "chose a time to be called back"
    if meaning in MEANINGS:
        return MEANINGS[meaning].format(at=f" at {place}")
    if meaning == "****":
        return f"entered {place}"
    if meaning.isdigit():
        return f"entered {place} {meaning}"
    if meaning in ("yes", "no"):
        return f"said {meaning} at {place}"
    if not meaning:
        return f"went to {place}"
    return f"chose “{meaning.replace('_', ' ')}” at {place}"
