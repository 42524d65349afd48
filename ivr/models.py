"""What the IVR stores: customers and their orders, and every call with its state and event log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    account_number: Mapped[str] = mapped_column(String(20), unique=True)
    # A salted hash (werkzeug.security); the PIN itself is never stored.
    pin_hash: Mapped[str] = mapped_column(String(255))
    balance: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"))
    balance_due_on: Mapped[dt.date | None] = mapped_column(Date)
    plan: Mapped[str] = mapped_column(String(60), default="")
    last_payment_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    last_payment_on: Mapped[dt.date | None] = mapped_column(Date)

    orders: Mapped[list[Order]] = relationship(back_populates="customer", order_by="Order.number")

    @property
    def first_name(self) -> str:
        return self.name.split()[0]


class PinAttempt(Base):
    """One PIN entered on the phone for an account: what the lockout counts. Never the PIN itself.

    One row per call step, so a Twilio retry of the same step is not counted twice."""

    __tablename__ = "pin_attempts"
    __table_args__ = (UniqueConstraint("call_sid", "step"), Index("ix_pin_attempts_customer_at", "customer_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    call_sid: Mapped[str] = mapped_column(String(64))
    step: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ok: Mapped[bool] = mapped_column(Boolean)


class FaqEntry(Base):
    """One answer in the knowledge base callers search by voice or by topic."""

    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(120))  # how a choice is announced
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)


class FaqQuery(Base):
    """What a caller asked and what they got: for the people who keep the knowledge base.

    One row per call step, so a Twilio retry of the same step is not logged twice."""

    __tablename__ = "faq_queries"
    __table_args__ = (UniqueConstraint("call_sid", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    step: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    asked: Mapped[str] = mapped_column(Text)  # the words, or "topic: <category>"
    answered_slug: Mapped[str | None] = mapped_column(String(64))  # None: nothing found
    helpful: Mapped[bool | None] = mapped_column(Boolean)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    # processing | shipped | out_for_delivery | delivered | cancelled
    status: Mapped[str] = mapped_column(String(20))
    carrier: Mapped[str | None] = mapped_column(String(40))
    tracking_number: Mapped[str | None] = mapped_column(String(40))
    ships_on: Mapped[dt.date | None] = mapped_column(Date)
    expected_on: Mapped[dt.date | None] = mapped_column(Date)
    delivered_on: Mapped[dt.date | None] = mapped_column(Date)
    refund_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))

    customer: Mapped[Customer] = relationship(back_populates="orders")


class Call(Base):
    """One phone call: its place in the flow and what it has collected, keyed by Twilio's CallSid."""

    __tablename__ = "calls"

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    from_number: Mapped[str] = mapped_column(String(32), default="")
    to_number: Mapped[str] = mapped_column(String(32), default="")
    language: Mapped[str] = mapped_column(String(10), default="en-US")
    node: Mapped[str] = mapped_column(String(64))
    # Counts answered steps; a step URL carries it, so a retried POST is recognised.
    step: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    collected: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    verified_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    # The TwiML of the last answer, replayed to a duplicate POST of the same step.
    last_twiml: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    end_status: Mapped[str | None] = mapped_column(String(20))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)

    events: Mapped[list[CallEvent]] = relationship(back_populates="call", order_by="CallEvent.seq")


class CallEvent(Base):
    """One step of a call, as it happened; sensitive digits are masked before they get here."""

    __tablename__ = "call_events"
    __table_args__ = (UniqueConstraint("call_sid", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unique (call_sid, seq) index serves look-ups by call too.
    call_sid: Mapped[str] = mapped_column(ForeignKey("calls.call_sid"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    node: Mapped[str] = mapped_column(String(64))
    input_kind: Mapped[str] = mapped_column(String(16))  # start | dtmf | speech | none | status
    input_value: Mapped[str] = mapped_column(String(255), default="")
    matched: Mapped[str] = mapped_column(String(64), default="")
    next_node: Mapped[str] = mapped_column(String(64), default="")
    said: Mapped[str] = mapped_column(Text, default="")

    call: Mapped[Call] = relationship(back_populates="events")
