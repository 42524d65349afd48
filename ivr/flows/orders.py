"""Order status: the caller gives an order number and hears where the order is."""

from __future__ import annotations

from sqlalchemy import select

from ivr.flows.actions import Say
from ivr.flows.context import Context
from ivr.flows.nodes import Goto, Handler, Menu, NumberEntry, Option, Question
from ivr.flows.state import CallState
from ivr.flows.texts import offer_text
from ivr.models import Order
from ivr.orders import order_report
from ivr.spoken import spoken_digits

MAX_LOOKUPS = 3


def order_lookup(state: CallState, context: Context) -> Goto:
    """Read out the order the caller named, or say it was not found (3 tries)."""
    number = str(state.collected.get("order_number", ""))
    order = context.session.scalar(select(Order).where(Order.number == number))
    if order is None:
        misses = int(state.collected.get("order_misses", 0)) + 1
        said = (Say("order_not_found", {"number": spoken_digits(number)}),)
        if misses >= MAX_LOOKUPS:
            # As after three misses at any prompt: a person, or a message, who can look further.
            return Goto("after_failures", say=said, remember={"failed_at": "order_number"}, forget=("order_misses",),
                        not_helped=True)  # fmt: skip
        return Goto("order_number", say=said, remember={"order_misses": misses}, not_helped=True)
    said = (order_report(order, context.speaker(state.language)),)
    found = Goto("order_result", say=said, forget=("order_misses",), repeatable=True, helped="order_status")
    return offer_text(state, context, found, "/help/orders")


NODES = [
    NumberEntry(
        "order_number",
        prompt="order_number",
        store_as="order_number",
        goto="order_lookup",
        min_digits=4,
        max_digits=4,
        help="order_number_help",
    ),
    Handler(
        "order_lookup",
        run=order_lookup,
        exits={
            "order_result": "found",
            "text_offer": "found, a text offered",
            "order_number": "not found, try again",
            "after_failures": "third miss",
        },  # fmt: skip
    ),
    Menu(
        "order_result",
        prompt="anything_else",
        options=(
            Option("1", "another_order", goto="order_number"),
            Option("", "nothing_else", goto="goodbye"),
            Option("", "yes", goto="main_menu"),
        ),
        help="order_result_help",
        footer="to_main_menu",
        question=Question(store_as="faq_question", goto="own_words"),
        understands="main_menu",
        anything_else=True,
    ),
]

# Prompts a handler may say, with the {values} it gives each: `flows check` matches them against
# every catalog's placeholders.
HANDLER_PROMPTS = {
    "order_not_found": {"number"},
    "order_processing": {"number", "ships"},
    "order_shipped": {"number", "carrier", "tracking", "expected"},
    "order_out_for_delivery": {"number"},
    "order_delivered": {"number", "delivered"},
    "order_cancelled": {"number", "refund"},
}
