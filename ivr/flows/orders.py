"""Order status: the caller gives an order number and hears where the order is."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from ivr.flows.actions import Say
from ivr.flows.context import Context
from ivr.flows.nodes import Goto, Handler, Menu, NumberEntry, Option, Question
from ivr.flows.state import CallState
from ivr.models import Order
from ivr.spoken import Speaker, spoken_digits

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
    return Goto("order_result", say=said, forget=("order_misses",), repeatable=True, helped="order_status")


def order_report(order: Order, speak: Speaker, digits: Callable[[str], str] = spoken_digits) -> Say:
    """The prompt for an order's status, with its values in `speak`'s language: numbers said digit by
    digit for callers (`digits`), as written for people reading them (`str`)."""
    values = {"number": digits(order.number)}
    # Each status's prompt gets every value HANDLER_PROMPTS declares for it, dates or not.
    if order.status == "processing":
        values["ships"] = speak.date(order.ships_on) if order.ships_on else speak.word("soon")
    elif order.status == "shipped":
        values["carrier"] = order.carrier or speak.word("our_carrier")
        values["tracking"] = digits((order.tracking_number or "")[-4:])
        values["expected"] = speak.date(order.expected_on) if order.expected_on else speak.word("soon")
    elif order.status == "delivered":
        values["delivered"] = speak.date(order.delivered_on) if order.delivered_on else speak.word("recently")
    elif order.status == "cancelled":
        values["refund"] = speak.money(order.refund_amount or 0)
    return Say(f"order_{order.status}", values)


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
        exits={"order_result": "found", "order_number": "not found, try again", "after_failures": "third miss"},
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
