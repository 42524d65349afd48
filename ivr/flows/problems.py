"""Problems a caller reports: an order not received, a damaged or wrong item, a double charge or a
wrong amount, an order to cancel, an account to close, a complaint.

The line does not try to solve a problem, and never answers one from the knowledge base. It asks for
what the case needs (the order, checked against the caller's own orders), says the order's status and
what happens next, and offers a message for the team (or a person: 0, at any time in opening hours).
The message carries the case in words an agent acts on without calling back to ask:
"order 5003: not received; status says delivered 28 Nov".
"""

from __future__ import annotations

from collections.abc import Callable

from babel.dates import format_date
from babel.numbers import format_currency
from sqlalchemy import select

from ivr.flows.actions import Say
from ivr.flows.context import Context
from ivr.flows.nodes import Goto, Handler, Menu, NumberEntry, Option
from ivr.flows.state import CallState
from ivr.flows.voicemail import leave_message
from ivr.models import Customer, Order
from ivr.orders import order_report
from ivr.speech.matching import best_options, coverage, said_together
from ivr.speech.numbers import numbers_in
from ivr.spoken import spoken_digits

# Each problem, as the case says it to the team (agents read English).
KINDS = {
    "not_received": "not received",
    "damaged": "damaged or wrong item",
    "charged_twice": "charged twice or a wrong amount",
    "cancel_order": "wants it cancelled",
    "close_account": "wants the account closed",
    "complaint": "a complaint",
}
ABOUT_AN_ORDER = ("not_received", "damaged", "charged_twice", "cancel_order")
# The main menu's ways in: a problem is named in the caller's words, never by a key.
OPTIONS = tuple(Option("", f"problem_{kind}", goto=f"problem_{kind}") for kind in KINDS)
# An order number the caller does not get right is asked for once more; then the case goes on without it.
ORDER_TRIES = 2
ORDER_DIGITS = 4
AGENTS_LOCALE = "en_US"
# What an earlier problem in the call left behind.
EARLIER = ("problem_order", "problem_misses", "problem_case")
# A problem is surely meant when one of its phrases was said as such, or its words are this share of
# what was said (as an option is at any prompt: ivr/flows/engine.py).
SURE = 0.7


def named(asked: str, state: CallState, context: Context) -> tuple[str, bool] | None:
    """The problem the caller's words name, where the prompt offers none of them (the questions prompt:
    "I was charged twice" is a problem, not a question); with whether it is surely meant. None: no problem."""
    if context.catalog is None or not asked:
        return None
    words = context.catalog.words(state.language)
    phrases = {o.goto: context.catalog.phrases(state.language, o.name) for o in OPTIONS}
    winners = best_options(asked, phrases, words)
    if len(winners) != 1:
        return None
    said = phrases[winners[0]]
    return winners[0], said_together(asked, said, words) or coverage(asked, said, words) >= SURE


def reported(kind: str) -> Callable[[CallState, Context], Goto]:
    """The handler for one kind of problem: its order (said already, or asked for), or on to what next."""

    def run(state: CallState, context: Context) -> Goto:
        remember: dict[str, object] = {"problem": kind}
        if kind not in ABOUT_AN_ORDER:
            return Goto("problem_taken", remember=remember, forget=EARLIER, not_helped=True)
        said = str(state.transient.get("said") or state.collected.get("faq_question") or "")
        numbers = numbers_in(said, context.catalog.numbers(state.language)) if context.catalog else []
        number = next((n for n in numbers if len(n) == ORDER_DIGITS), None)
        if number is not None:
            remember["problem_order"] = number
            return Goto("problem_check", remember=remember, forget=("problem_misses", "problem_case"), not_helped=True)
        return Goto("problem_order", remember=remember, forget=EARLIER, not_helped=True)

    run.__name__ = run.__qualname__ = f"problem_{kind}"
    return run


def callers_customer(state: CallState, context: Context) -> Customer | None:
    """Whose orders the caller's are: the customer they proved to be, else the one whose number they call from."""
    if state.verified_customer_id is not None:
        return context.session.get(Customer, state.verified_customer_id)
    if not state.caller:
        return None
    return context.session.scalar(select(Customer).where(Customer.phone == state.caller))


def problem_check(state: CallState, context: Context) -> Goto:
    """The order the problem is about, checked against the caller's own orders: its status is said and
    goes into the case; one not found is asked for once more, then the case notes it."""
    kind, number = str(state.collected.get("problem", "complaint")), str(state.collected.get("problem_order", ""))
    customer = callers_customer(state, context)
    order = context.session.scalar(select(Order).where(Order.number == number))
    if order is not None and (customer is None or order.customer_id == customer.id):
        case = f"order {number}: {KINDS[kind]}; status says {status_for_agents(order, context)}"
        if customer is None:
            case += "; caller not identified"
        return Goto("problem_taken", say=(order_report(order, context.speaker(state.language)),),
                    remember={"problem_case": case}, forget=("problem_misses",), repeatable=True)  # fmt: skip
    spoken = {"number": spoken_digits(number)}
    said = (Say("problem_order_unknown", spoken) if customer is not None else Say("order_not_found", spoken),)
    misses = int(state.collected.get("problem_misses", 0)) + 1
    if misses < ORDER_TRIES:
        return Goto("problem_order", say=said, remember={"problem_misses": misses})
    whose = "among this caller's orders" if customer is not None else "at all"
    case = f"order {number}: {KINDS[kind]}; no such order {whose}"
    return Goto("problem_taken", say=said, remember={"problem_case": case}, forget=("problem_misses",))


def problem_taken(state: CallState, context: Context) -> Goto:
    """What happens next, then the offer of a message (or a person: 0) with the case."""
    kind = str(state.collected.get("problem", "complaint"))
    case = str(state.collected.get("problem_case") or "")
    if not case:  # a problem with no order: the account it is about, where the caller is known
        customer = callers_customer(state, context)
        account = f"account {customer.account_number}: " if customer is not None else ""
        case = f"{account}{KINDS[kind]}"
    return Goto("problem_offer", say=(Say(f"problem_next_{kind}"),), remember={"problem_case": case})


def problem_message(state: CallState, context: Context) -> Goto:
    return Goto("message_start", remember=leave_message("problem", "problem_offer"))


def status_for_agents(order: Order, context: Context) -> str:
    """An order's status as the team reads it: "delivered 28 Nov", "shipped with UPS, expected 8 Dec"."""

    def day(value):  # type: ignore[no-untyped-def]
        return format_date(value, "d MMM", locale=AGENTS_LOCALE) if value else "no date"

    currency = str(context.settings.get("CURRENCY") or "USD")
    return {
        "processing": lambda: f"processing, ships {day(order.ships_on)}",
        "shipped": lambda: f"shipped with {order.carrier or 'the carrier'}, expected {day(order.expected_on)}",
        "out_for_delivery": lambda: "out for delivery",
        "delivered": lambda: f"delivered {day(order.delivered_on)}",
        "cancelled": lambda: (
            f"cancelled, {format_currency(order.refund_amount or 0, currency, locale=AGENTS_LOCALE)} refunded"
        ),
    }.get(order.status, lambda: order.status)()


NODES = [
    *(
        Handler(
            f"problem_{kind}",
            run=reported(kind),
            exits={"problem_check": "an order number said", "problem_order": "which order?"}
            if kind in ABOUT_AN_ORDER
            else {"problem_taken": "what happens next"},
        )
        for kind in KINDS
    ),
    NumberEntry(
        "problem_order",
        prompt="problem_order_number",
        store_as="problem_order",
        goto="problem_check",
        min_digits=ORDER_DIGITS,
        max_digits=ORDER_DIGITS,
        help="order_number_help",
    ),
    Handler(
        "problem_check",
        run=problem_check,
        exits={
            "problem_taken": "the caller's order, or not found twice",
            "problem_order": "not among the caller's orders: once more",
        },
    ),
    Handler("problem_taken", run=problem_taken, exits={"problem_offer": "what happens next"}),
    Menu(
        "problem_offer",
        prompt="problem_offer",
        options=(Option("1", "leave_message", goto="problem_message"), Option("", "nothing_else", goto="declined")),
        help="problem_offer_help",
        footer="person_anywhere",
        offer=True,
    ),
    Handler("problem_message", run=problem_message, exits={"message_start": "a message with the case"}),
]

HANDLER_PROMPTS = {"problem_order_unknown": {"number"}, **{f"problem_next_{kind}": set() for kind in KINDS}}
