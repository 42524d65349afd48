"""Account (main menu 1): the caller proves who they are with a PIN, then hears their account.

A caller ID that matches a customer only chooses whose PIN is asked for; it never unlocks anything.
3 wrong PINs end the attempt in this call; 5 failures in a row on one account within 24 hours
lock phone access to it for 24 hours. PINs are checked against their hash and never stored, logged
or kept in the call's state (they live in the step's transient values only).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash

from ivr.flows.actions import Say
from ivr.flows.context import Context
from ivr.flows.nodes import Goto, Handler, Menu, Message, NumberEntry, Option, Question
from ivr.flows.state import CallState
from ivr.flows.voicemail import leave_message
from ivr.models import Customer, Order, PinAttempt, as_utc
from ivr.orders import order_report
from ivr.spoken import spoken_digits

PIN_TRIES_PER_CALL = 3
LOCK_AFTER_FAILURES = 5
LOCK_WINDOW = dt.timedelta(hours=24)
MAX_ACCOUNT_LOOKUPS = 3
OPEN_STATUSES = ("processing", "shipped", "out_for_delivery")


def account_start(state: CallState, context: Context) -> Goto:
    """A verified caller goes straight to the account; a known caller ID is asked for the PIN at once,
    and not greeted by name: a caller ID can be spoofed, so the name is said only after the PIN."""
    if state.verified_customer_id is not None:
        return Goto("account_summary")
    if state.caller:
        customer = context.session.scalar(select(Customer).where(Customer.phone == state.caller))
        if customer is not None:
            return Goto("pin_ready", remember={"account_candidate": customer.id})
    return Goto("account_who")


def account_lookup(state: CallState, context: Context) -> Goto:
    number = str(state.collected.get("account_number", ""))
    customer = context.session.scalar(select(Customer).where(Customer.account_number == number))
    if customer is None:
        misses = int(state.collected.get("account_misses", 0)) + 1
        said = (Say("account_not_found", {"number": spoken_digits(number)}),)
        if misses >= MAX_ACCOUNT_LOOKUPS:
            return Goto("main_menu", say=said, forget=("account_misses", "account_number"))
        return Goto("account_number", say=said, remember={"account_misses": misses})
    return Goto("pin_ready", remember={"account_candidate": customer.id}, forget=("account_misses", "account_number"))


def failures_in_a_row(context: Context, customer_id: int, now: dt.datetime) -> tuple[int, dt.datetime | None]:
    """Failed PINs on this account since its last correct one, within the lock window; the latest."""
    since = now - LOCK_WINDOW
    last_ok = context.session.scalar(
        select(func.max(PinAttempt.at)).where(PinAttempt.customer_id == customer_id, PinAttempt.ok.is_(True))
    )
    if last_ok is not None:
        since = max(since, as_utc(last_ok))
    count, latest = context.session.execute(
        select(func.count(), func.max(PinAttempt.at)).where(
            PinAttempt.customer_id == customer_id, PinAttempt.ok.is_(False), PinAttempt.at > since
        )
    ).one()
    return int(count), as_utc(latest) if latest is not None else None


def pin_ready(state: CallState, context: Context) -> Goto:
    """Before the PIN is asked for: a locked account says so at once, and when one more wrong PIN
    would lock it, the caller is warned and offered a person or a message instead."""
    customer_id = state.collected.get("account_candidate")
    if customer_id is None:
        return Goto("account_number")
    failures, _latest = failures_in_a_row(context, int(customer_id), context.now)
    if failures >= LOCK_AFTER_FAILURES:
        return _locked()
    if failures == LOCK_AFTER_FAILURES - 1:
        return Goto("pin_last_try")
    return Goto("pin_entry")


def pin_message(state: CallState, context: Context) -> Goto:
    """Warned before a lock, the caller would rather leave a message."""
    return Goto("message_start", remember=leave_message("pin_failures", "pin_last_try"), forget=CANDIDATE)


def pin_check(state: CallState, context: Context) -> Goto:
    now = context.now
    customer_id = state.collected.get("account_candidate")
    customer = context.session.get(Customer, customer_id) if customer_id is not None else None
    if customer is None:
        return Goto("account_number")
    failures, _latest = failures_in_a_row(context, customer.id, now)
    if failures >= LOCK_AFTER_FAILURES:
        return _locked()
    pin = str(state.transient.pop("pin", ""))
    ok = check_password_hash(customer.pin_hash, pin)
    _record_attempt(context, customer.id, state, now, ok)
    if ok:
        return Goto("account_summary", verified_customer_id=customer.id, forget=("account_candidate", "pin_misses"))
    if failures + 1 >= LOCK_AFTER_FAILURES:
        return _locked()
    misses = int(state.collected.get("pin_misses", 0)) + 1
    if misses >= PIN_TRIES_PER_CALL:
        remember = leave_message("pin_failures", "pin_entry")
        return Goto("message_offer", say=(Say("pin_too_many"),), remember=remember, forget=CANDIDATE)
    again = "pin_last_try" if failures + 1 == LOCK_AFTER_FAILURES - 1 else "pin_entry"
    return Goto(again, say=(Say("pin_wrong"),), remember={"pin_misses": misses})


CANDIDATE = ("account_candidate", "pin_misses")


def _locked() -> Goto:
    """Phone access is locked: the caller is told, and may leave a message for the team."""
    remember = leave_message("account_locked", "pin_entry")
    return Goto("message_offer", say=(Say("account_locked"),), remember=remember, forget=CANDIDATE)


def _record_attempt(context: Context, customer_id: int, state: CallState, now: dt.datetime, ok: bool) -> None:
    """Recorded at once, in its own transaction: hanging up after a wrong PIN still counts."""
    try:
        with context.writing() as session:
            session.add(PinAttempt(customer_id=customer_id, call_sid=state.call_sid, step=state.step, at=now, ok=ok))
    except IntegrityError:
        pass  # a Twilio retry of the same step: already counted


def account_summary(state: CallState, context: Context) -> Goto:
    customer = context.session.get(Customer, state.verified_customer_id)
    if customer is None:
        return Goto("account_number")
    today, speak = context.today, context.speaker(state.language)
    said: list[Say] = [Say("account_verified", {"first_name": customer.first_name})]
    if customer.balance <= 0:
        said.append(Say("balance_nothing_due"))
    elif customer.balance_due_on is not None and customer.balance_due_on < today:
        days = (today - customer.balance_due_on).days  # the prompt's words follow the number (plural)
        said.append(Say("balance_overdue", {"amount": speak.money(customer.balance), "days": str(days)}))
    else:
        due = speak.date(customer.balance_due_on) if customer.balance_due_on else speak.word("soon")
        said.append(Say("balance_due", {"amount": speak.money(customer.balance), "due": due}))
    if customer.plan:
        said.append(Say("account_plan", {"plan": customer.plan}))
    if customer.last_payment_amount is not None and customer.last_payment_on is not None:
        values = {"amount": speak.money(customer.last_payment_amount), "when": speak.date(customer.last_payment_on)}
        said.append(Say("last_payment", values))
    count = len(_open_orders(context, customer.id))
    said.append(Say("open_orders_count", {"count": str(count)}) if count else Say("no_open_orders"))
    return Goto("account_menu", say=tuple(said), repeatable=True, helped="account")


def open_orders_report(state: CallState, context: Context) -> Goto:
    orders = _open_orders(context, state.verified_customer_id or 0)
    said = tuple(order_report(order, context.speaker(state.language)) for order in orders) or (Say("no_open_orders"),)
    return Goto("account_menu", say=said, repeatable=True, helped="order_status")


def _open_orders(context: Context, customer_id: int) -> list[Order]:
    query = (
        select(Order).where(Order.customer_id == customer_id, Order.status.in_(OPEN_STATUSES)).order_by(Order.number)
    )
    return list(context.session.scalars(query))


NODES = [
    Handler(
        "account_start",
        run=account_start,
        exits={
            "account_summary": "already verified in this call",
            "pin_ready": "caller ID is a customer",
            "account_who": "caller ID unknown",
        },
    ),
    Menu(
        "account_who",
        prompt="account_who",
        options=(
            Option("1", "have_account", goto="account_number"),
            Option("2", "new_account", goto="how_to_open_account"),
        ),
        help="account_who_help",
        footer="to_main_menu",
    ),
    Message("how_to_open_account", prompt="how_to_open_account", goto="main_menu"),
    NumberEntry(
        "account_number",
        prompt="account_number",
        store_as="account_number",
        goto="account_lookup",
        min_digits=6,
        max_digits=6,
        help="account_number_help",
    ),
    Handler(
        "account_lookup",
        run=account_lookup,
        exits={"pin_ready": "found", "account_number": "not found, try again", "main_menu": "third miss"},
    ),
    Handler(
        "pin_ready",
        run=pin_ready,
        exits={
            "pin_entry": "ask for the PIN",
            "pin_last_try": "one more wrong PIN locks it",
            "account_number": "no account chosen",
            "message_offer": "locked",
        },
    ),
    Menu(
        "pin_last_try",
        prompt="pin_last_try",
        options=(
            Option("1", "enter_pin", goto="pin_entry"),
            Option("2", "leave_message", goto="pin_message"),
            Option("", "nothing_else", goto="declined"),
        ),
        help="pin_last_try_help",
        footer="person_anywhere",
        offer=True,
        keys_as="pin_entry",  # the PIN typed straight away (0001#) is the PIN
    ),
    Handler("pin_message", run=pin_message, exits={"message_start": "a message instead"}),
    NumberEntry(
        "pin_entry",
        prompt="pin_entry",
        store_as="pin",
        goto="pin_check",
        min_digits=4,
        max_digits=4,
        speech=False,
        sensitive=True,
        help="pin_entry_help",
        spoken="pin_typed_only",
    ),
    Handler(
        "pin_check",
        run=pin_check,
        exits={
            "account_summary": "right PIN",
            "pin_entry": "wrong, try again",
            "pin_last_try": "wrong; one more locks it",
            "account_number": "no account chosen",
            "message_offer": "locked, or third wrong PIN",
        },
    ),
    Handler(
        "account_summary",
        run=account_summary,
        exits={"account_menu": "balance, plan, payment, orders read", "account_number": "customer not found"},
    ),
    Menu(
        "account_menu",
        prompt="anything_else",
        options=(
            Option("1", "open_orders", goto="open_orders_report"),
            Option("2", "account_repeat", goto="account_summary"),
            Option("", "nothing_else", goto="goodbye"),
            Option("", "yes", goto="main_menu"),
        ),
        help="account_menu_help",
        footer="to_main_menu",
        question=Question(store_as="faq_question", goto="own_words"),
        understands="main_menu",
        anything_else=True,
    ),
    Handler("open_orders_report", run=open_orders_report, exits={"account_menu": "open orders read"}),
]

HANDLER_PROMPTS = {
    "account_not_found": {"number"},
    "account_locked": set(),
    "pin_wrong": set(),
    "pin_too_many": set(),
    "account_verified": {"first_name"},
    "balance_nothing_due": set(),
    "balance_overdue": {"amount", "days"},
    "balance_due": {"amount", "due"},
    "account_plan": {"plan"},
    "last_payment": {"amount", "when"},
    "open_orders_count": {"count"},
    "no_open_orders": set(),
}
