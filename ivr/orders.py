"""Orders in words, and looked up from outside the phone.

`order_report`: an order's status as the phone says it and the help centre shows it. `look_up`: an
order found from the help centre by its number and a proof that it is the visitor's, the last four
digits of the phone number on its account or the account's postcode.

Whatever is wrong (no such order, the wrong digits, no phone or postcode on the account), the answer
is the same, after the same work: no one can tell an order that exists from one that does not. Each
look-up is kept (order_lookups); after MISSES wrong ones from one address in ADDRESS_WINDOW, or for one
order number from anywhere in NUMBER_WINDOW, further look-ups are refused, right ones included, so
orders cannot be found by trying. Rows older than a day are deleted as new ones come.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload

from ivr.flows.actions import Say
from ivr.models import Order, OrderLookup
from ivr.spoken import Speaker, spoken_digits

NUMBER = re.compile(r"[0-9]{1,20}")
MISSES = 5
ADDRESS_WINDOW = dt.timedelta(minutes=15)
NUMBER_WINDOW = dt.timedelta(hours=1)
KEPT = dt.timedelta(days=1)
# Compared with what was given when there is nothing to compare it with: the same work either way.
NOTHING = "\x00" * 16


@dataclass(frozen=True)
class Looked:
    """What a look-up found: the order (None: not found, whatever the reason), or that it was refused."""

    order: Order | None = None
    refused: bool = False


def proof_of(given: str) -> str:
    """What was given as proof, as it is compared: letters and digits, lower case ("SW1A 1AA" is "sw1a1aa")."""
    return re.sub(r"[\W_]", "", given).casefold()


def look_up(session: Session, number: str, proof: str, address: str, now: dt.datetime) -> Looked:
    """The order `number` if `proof` is the last four digits of its account's phone number or the
    account's postcode; kept as a look-up from `address` (a keyed hash) in the caller's transaction."""
    if too_many(session, number, address, now):
        return Looked(refused=True)
    order = None
    if NUMBER.fullmatch(number):
        # One statement, the customer joined: the same work whether or not there is an order.
        query = select(Order).where(Order.number == number).options(joinedload(Order.customer))
        order = session.scalar(query)
    customer = order.customer if order is not None else None
    phone = re.sub(r"\D", "", customer.phone or "")[-4:] if customer is not None else ""
    postcode = proof_of(customer.postcode or "") if customer is not None else ""
    given = proof_of(proof)
    # Both compared, in constant time, whether or not there is an order: the same work for all.
    by_phone = hmac.compare_digest(given.encode(), (phone if len(phone) == 4 else NOTHING).encode())
    by_postcode = hmac.compare_digest(given.encode(), (postcode or NOTHING).encode())
    found = order if order is not None and given and (by_phone or by_postcode) else None
    session.execute(delete(OrderLookup).where(OrderLookup.at < now - KEPT))
    session.add(OrderLookup(at=now, address=address, number=number[:20], found=found is not None))
    return Looked(order=found)


def too_many(session: Session, number: str, address: str, now: dt.datetime) -> bool:
    """Whether this address, or anyone for this order number, missed MISSES times lately."""
    misses = select(func.count()).select_from(OrderLookup).where(OrderLookup.found.is_(False))
    from_here = misses.where(OrderLookup.address == address, OrderLookup.at >= now - ADDRESS_WINDOW)
    for_number = misses.where(OrderLookup.number == number[:20], OrderLookup.at >= now - NUMBER_WINDOW)
    return (session.scalar(from_here) or 0) >= MISSES or (session.scalar(for_number) or 0) >= MISSES


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
