"""The demo line: customers and orders (relative to the day they are loaded), the knowledge base and
the product directory. Loading twice changes nothing but the dates. Loaded only when asked: `flask
seed`, or `make run` on a new database; never over a line's own data (`own_data`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ivr.models import Customer, FaqEntry, Order, Product

CUSTOMERS = [
    # name, caller ID, account, PIN, balance, due in days (negative: overdue)
    ("Ada Lovelace", "+15550100001", "100001", "4321", "42.50", 10),
    ("Grace Hopper", "+15550100002", "100002", "2468", "0.00", None),
    ("Alan Turing", "+15550100003", "100003", "1357", "120.00", -5),
]
# account: the postcode of the address on it
POSTCODES = {"100001": "10001", "100002": "94105", "100003": "60601"}


# account: plan, last payment amount, paid how many days ago
ACCOUNT_PLANS = {
    "100001": ("Standard", "30.00", 20),
    "100002": ("Premium", "59.99", 5),
    "100003": ("Basic", "40.00", 40),
}


def _orders(today: dt.date) -> list[dict]:
    day = dt.timedelta(days=1)
    return [
        dict(number="5001", account="100001", status="shipped", carrier="UPS",
             tracking_number="1Z999AA10123456784", ships_on=today - day, expected_on=today + 2 * day),
        dict(number="5002", account="100001", status="processing", ships_on=today + day),
        dict(number="5003", account="100002", status="delivered", delivered_on=today - 3 * day),
        dict(number="5004", account="100002", status="cancelled", refund_amount=Decimal("19.99")),
        dict(number="5005", account="100003", status="out_for_delivery", carrier="FedEx", expected_on=today),
    ]  # fmt: skip


def hash_pin(pin: str) -> str:
    return generate_password_hash(pin)


def line_today() -> dt.date:
    """Today where the line is (IVR_TIMEZONE, and IVR_CLOCK when it is fixed): the day the flows say
    "tomorrow" and "overdue by 5 days" from. The machine's own date differs for hours each night."""
    from flask import current_app, has_app_context

    from ivr import hours

    if not has_app_context() or "ivr.hours" not in current_app.extensions:
        return dt.date.today()
    return current_app.extensions["ivr.hours"].local(hours.now(current_app.config)).date()


def load_demo_data(session: Session, today: dt.date | None = None) -> None:
    today = today or line_today()
    by_account: dict[str, Customer] = {}
    for name, phone, account, pin, balance, due_in in CUSTOMERS:
        customer = session.scalar(select(Customer).where(Customer.account_number == account))
        if customer is None:
            customer = Customer(account_number=account, pin_hash=hash_pin(pin))
            session.add(customer)
        elif not check_password_hash(customer.pin_hash, pin):
            customer.pin_hash = hash_pin(pin)
        customer.name, customer.phone, customer.balance = name, phone, Decimal(balance)
        customer.postcode = POSTCODES[account]
        customer.balance_due_on = today + dt.timedelta(days=due_in) if due_in is not None else None
        plan, paid, paid_days_ago = ACCOUNT_PLANS[account]
        customer.plan, customer.last_payment_amount = plan, Decimal(paid)
        customer.last_payment_on = today - dt.timedelta(days=paid_days_ago)
        by_account[account] = customer
    session.flush()
    for fields in _orders(today):
        customer = by_account[fields.pop("account")]
        order = session.scalar(select(Order).where(Order.number == fields["number"]))
        if order is None:
            order = Order(number=fields["number"], customer_id=customer.id, status=fields["status"])
            session.add(order)
        for column in ("carrier", "tracking_number", "ships_on", "expected_on", "delivered_on", "refund_amount"):
            setattr(order, column, fields.get(column))
        order.customer_id, order.status = customer.id, fields["status"]


def load_demo_line(session: Session, today: dt.date | None = None) -> str:
    """Everything `flask seed` loads, in the caller's transaction; what was loaded, in words."""
    from ivr.knowledge.entries import load_demo
    from ivr.products.store import load_demo as load_demo_products

    today = today or line_today()
    load_demo_data(session, today)
    added, updated = load_demo(session)
    products = load_demo_products(session)
    return f"{len(CUSTOMERS)} customers, {len(_orders(today))} orders, {added + updated} questions, {products} products"


def own_data(session: Session) -> list[str]:
    """What the database holds that the demo would not put there, in words ("2 customers"): a line's
    own data, which loading the demo must never overwrite. Calls, messages and agents do not count:
    trying the demo makes them."""
    from ivr.knowledge.entries import DEMO_FILES, read_file
    from ivr.products.catalogue import read
    from ivr.products.store import DEMO_FILE

    accounts = [account for _name, _phone, account, *_rest in CUSTOMERS]
    orders = [fields["number"] for fields in _orders(dt.date.today())]
    entries = {(entry["language"], entry["slug"]) for path in DEMO_FILES for entry in read_file(path)}
    products = [product.code for product in read(DEMO_FILE).products]

    def count(query) -> int:  # type: ignore[no-untyped-def]
        return session.scalar(select(func.count()).select_from(query.subquery())) or 0

    found = {
        "customers": count(select(Customer.id).where(Customer.account_number.not_in(accounts))),
        "orders": count(select(Order.id).where(Order.number.not_in(orders))),
        "questions": sum(
            1 for key in session.execute(select(FaqEntry.language, FaqEntry.slug)) if tuple(key) not in entries
        ),
        "products": count(select(Product.id).where(Product.code.not_in(products))),
    }
    return [f"{number} {what if number > 1 else what[:-1]}" for what, number in found.items() if number]


def is_new(session: Session) -> bool:
    """No customers, orders, questions nor products: a database just made."""
    return not any(session.scalar(select(model.id).limit(1)) for model in (Customer, Order, FaqEntry, Product))
