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
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# JSON text on SQLite; jsonb on PostgreSQL, whose `||` appends to an array in place.
EVENT_LOG = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A time read back from the database, aware: SQLite gives naive ones, and every time stored is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def modelled(name: str | None, type_: str, _parent: Any = None) -> bool:
    """Whether Alembic's comparison should see a table: not the full-text indexes' tables (FTS5 makes
    message_search, product_search and their shadow tables), which the models do not declare
    (migrations 0009, 0023)."""
    return not (type_ == "table" and (name or "").startswith(("message_search", "product_search")))


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
    # The postcode of the account's address: with an order number, what proves an order is theirs online.
    postcode: Mapped[str | None] = mapped_column(String(16))

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
    """One answer in the knowledge base callers search by voice or by topic, in one language: the same
    slug in another language is that language's entry for the same question."""

    __tablename__ = "faq_entries"
    __table_args__ = (UniqueConstraint("language", "slug", name="uq_faq_entries_language_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(16), default="en-US", server_default="en-US")
    slug: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(120))  # how a choice is announced
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Set on every change: with the count and the newest id, the version the search index is built for.
    revised_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, server_default=func.now()
    )


class FaqVersion(Base):
    """One state of a knowledge-base entry, kept on every change (the editor, `faq import`, an undo):
    who made it and when, so a change that made callers worse off can be seen and taken back. Keyed by
    language and slug, not the entry's id, so an entry undone out of existence keeps its history."""

    __tablename__ = "faq_versions"
    __table_args__ = (Index("ix_faq_versions_language_slug_id", "language", "slug", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(16))
    slug: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    by: Mapped[str] = mapped_column(String(80))  # an agent's name, "faq import", "before versions"
    # created | edited | restored | removed (an undone creation: the fields are the last state)
    action: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(120))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)


class FaqQuery(Base):
    """What a caller asked and what they got: for the people who keep the knowledge base.

    One row per call step, so a Twilio retry of the same step is not logged twice."""

    __tablename__ = "faq_queries"
    # The recent questions of a language (the editor's preview of an entry).
    __table_args__ = (UniqueConstraint("call_sid", "step"), Index("ix_faq_queries_language_at", "language", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    step: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    asked: Mapped[str] = mapped_column(Text)  # the words, or "topic: <category>"
    language: Mapped[str] = mapped_column(String(16), default="en-US", server_default="en-US")  # the call's
    answered_slug: Mapped[str | None] = mapped_column(String(64))  # None: nothing found
    helpful: Mapped[bool | None] = mapped_column(Boolean)


class HelpEvent(Base):
    """What a visitor of the help centre did: a search and what it got ("answer", "options", "none"),
    an answer read, or a "Was this helpful?" vote (and on no, why). Counted on the insights page."""

    __tablename__ = "help_events"
    __table_args__ = (Index("ix_help_events_kind_at", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(10))  # search | read | vote
    language: Mapped[str] = mapped_column(String(16), default="en-US", server_default="en-US")
    outcome: Mapped[str] = mapped_column(String(10), default="", server_default="")
    asked: Mapped[str] = mapped_column(Text, default="", server_default="")
    slug: Mapped[str] = mapped_column(String(64), default="", server_default="")
    helpful: Mapped[bool | None] = mapped_column(Boolean)
    # not_asked (not what I asked) | not_clear | not_solved (did not solve it) | "" (none given)
    reason: Mapped[str] = mapped_column(String(20), default="", server_default="")


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


class ProductCategory(Base):
    """A shelf of the product directory: a code, and its name in each language."""

    __tablename__ = "product_categories"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class Product(Base):
    """Something the company sells: its price (in the line's currency) and whether it can be had now;
    its words are in `texts`, one per language."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    category: Mapped[str] = mapped_column(ForeignKey("product_categories.code"), index=True)
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    # in_stock | low | out_of_stock | discontinued (ivr.products.catalogue.AVAILABILITY)
    availability: Mapped[str] = mapped_column(String(20))
    # Size labels, the same in every language ("42", "M").
    sizes: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    texts: Mapped[list[ProductText]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductText.language"
    )


class ProductText(Base):
    """A product in one language: its name, description, colours and the words callers use for it."""

    __tablename__ = "product_texts"
    __table_args__ = (
        UniqueConstraint("product_id", "language", name="uq_product_texts_product_language"),
        # The directory in a language, by name: a page of it without sorting them all.
        Index("ix_product_texts_language_name", "language", "name"),
        # The newest change of a language's names: the version the phone's index of them is built for.
        Index("ix_product_texts_language_revised_at", "language", "revised_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    colours: Mapped[list[str]] = mapped_column(JSON, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What the full-text index finds it by (ivr/products/search.py): what it is called (name, code,
    # keywords); the rest.
    search_name: Mapped[str] = mapped_column(Text, default="", server_default="")
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Set on every change (ivr/products/heard.py builds its index of names again after one).
    revised_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship(back_populates="texts")


class Call(Base):
    """One phone call: its place in the flow and what it has collected, keyed by Twilio's CallSid."""

    __tablename__ = "calls"
    # A caller's earlier calls on an agent's page (migration 0010); written once, when the call begins.
    # Ended calls not yet in the insights' day rows, found by the worker in the order they began
    # (migration 0022): no index holds a column a call step writes, so a step's UPDATE writes no index.
    __table_args__ = (
        Index("ix_calls_from_started", "from_number", "started_at"),
        Index("ix_calls_summarised_started", "summarised", "started_at"),
    )

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
    # How the call ended, saved with every step (ivr.flows.state.OUTCOMES): helped, transferred,
    # message_left, gave_up; hung_up when the caller hung up before any of those. Self-service
    # success (containment) is the share of ended calls that were helped.
    outcome: Mapped[str | None] = mapped_column(String(20))

    # The call's event log: one entry per answered step, oldest first (what ivr.calls' save_turn writes;
    # sensitive digits masked before they get here). Kept in the call's own row rather than a table
    # of its own, so that a step writes one row, not two rows and an index (bench/webhooks.py).
    events: Mapped[list[dict[str, Any]]] = mapped_column(EVENT_LOG, default=list)
    # Whether the call is counted in the insights' day rows (ivr/insights/rollup.py): once, after it ended.
    # The version of the line the call heard (ivr/versions.py): set at its first step, and again if
    # the caller changed language.
    version: Mapped[str] = mapped_column(String(16), default="", server_default="")
    summarised: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Agent(Base):
    """Someone who works through the messages in the web queue."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    # A salted hash (werkzeug.security); the password itself is never stored.
    password_hash: Mapped[str] = mapped_column(String(255))
    # The agent's own phone, which click-to-call rings first (E.164); empty: tel: links only.
    phone: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A session is let in only while the agent's generation is the one it began with: log-out, a new
    # password and disabling move it on, which ends every session of the agent at once.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The SHA-256 of the agent's API token (`agents token NAME`), for integrations; the token itself is
    # shown once and never stored. A token is 256 random bits, so a fast hash is enough.
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # "agent" works the queue; "supervisor" also sees the team's workload and reassigns messages.
    role: Mapped[str] = mapped_column(String(20), default="agent", server_default="agent")
    # Failed log-ins for this name since its last good one: told to the agent at the next log-in.
    failed_log_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The addresses the agent logged in from lately (ivr/agents/throttle.py): spared a crowd's waits.
    known_addresses: Mapped[list[str] | None] = mapped_column(JSON, default=list)


class Message(Base):
    """A caller's voice message: who left it, where in the call and why, its audio and transcript,
    and where the agents are with it. One per Twilio recording (RecordingSid)."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_status_created", "status", "created_at"),
        # The queue's counts per filter read this index alone, not the rows (migration 0009).
        Index("ix_messages_status_assignee", "status", "assignee_id"),
        # A caller's earlier messages, by number or by customer (migration 0010).
        Index("ix_messages_caller_created", "caller", "created_at"),
        Index("ix_messages_customer_created", "customer_id", "created_at"),
        # The queue's counts filtered by the caller's language (migration 0015).
        Index("ix_messages_language_status", "language", "status", "assignee_id"),
        # How many messages one address sent from the help centre lately (migration 0020).
        Index("ix_messages_source_created", "source", "created_at"),
        # Each agent's least recently touched claim, for the team page (migration 0027).
        Index("ix_messages_status_assignee_touched", "status", "assignee_id", "touched_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    # Whose credentials fetch the audio (Twilio's "HTTP Basic Authentication for media access").
    account_sid: Mapped[str] = mapped_column(String(64), default="")
    recording_url: Mapped[str] = mapped_column(String(500))
    caller: Mapped[str] = mapped_column(String(32), default="")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    # Where in the call it was left (the node the caller was offered the message at) and why.
    branch: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(String(40), default="")
    # A problem the caller reported, as the team acts on it: "order 5003: not received; status says ...".
    case: Mapped[str] = mapped_column(Text, default="", server_default="")
    path: Mapped[list[str]] = mapped_column(JSON, default=list)  # the menus the caller went through
    duration_seconds: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # "phone" (a voice message) or "web" (written on the help centre's form: no audio, the transcript
    # is what the visitor wrote); whom to answer on the web, and a keyed hash of the sender's address.
    channel: Mapped[str] = mapped_column(String(10), default="phone", server_default="phone")
    contact_name: Mapped[str] = mapped_column(String(120), default="", server_default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    source: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # The language the caller spoke (their call's, e.g. "lv-LV"): shown to agents, and which speech
    # model may transcribe it.
    language: Mapped[str] = mapped_column(String(16), default="en-US", server_default="en-US")
    # The words it is found by (ivr/messages/search.py), indexed by the database's full-text search.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # When anything about it last changed: the queue's version for API clients' conditional polls.
    changed_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, index=True
    )
    # When an agent last acted on it (claimed, noted, called, done, reopened, took over, gave it):
    # what makes a claim stale. Set by ivr/agents/queue.py's add_history, never by the worker.
    touched_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow)
    # new | in_progress | done | replaced (the caller recorded it again)
    status: Mapped[str] = mapped_column(String(20), default="new")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    # The copy of the audio in the project's storage: pending | stored | failed | deleted.
    audio_status: Mapped[str] = mapped_column(String(20), default="pending")
    audio_path: Mapped[str | None] = mapped_column(String(500))
    audio_attempts: Mapped[int] = mapped_column(Integer, default=0)
    audio_error: Mapped[str] = mapped_column(Text, default="")
    # The transcript, made offline by the worker: waiting | pending | done | failed | no_model (no speech
    # model for the message's language on this server: never tried).
    transcript: Mapped[str] = mapped_column(Text, default="")
    transcript_status: Mapped[str] = mapped_column(String(20), default="waiting")
    transcript_attempts: Mapped[int] = mapped_column(Integer, default=0)
    transcript_error: Mapped[str] = mapped_column(Text, default="")
    # Each word of the transcript with the recogniser's confidence in it (0..1), as [word, confidence]
    # pairs; empty for transcripts made before confidences were kept (migration 0013).
    transcript_words: Mapped[list[list[Any]]] = mapped_column(JSON, default=list, server_default="[]")
    # When the worker may try the message's next job (a download or a transcript) again.
    next_try_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    # A callback request (channel "callback", ivr/messages/callbacks.py): the number to call, the time
    # the caller chose (or when they asked, for "as soon as someone is free"), when the next call is
    # due (None once there is nothing more to try), the calls made, the first's time, the last result.
    callback_to: Mapped[str] = mapped_column(String(32), default="", server_default="")
    callback_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    callback_due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    callback_tries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    callback_first_try_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    callback_result: Mapped[str] = mapped_column(String(20), default="", server_default="")

    customer: Mapped[Customer | None] = relationship()
    assignee: Mapped[Agent | None] = relationship()
    notes: Mapped[list[MessageNote]] = relationship(back_populates="message", order_by="MessageNote.id")
    history: Mapped[list[MessageHistory]] = relationship(back_populates="message", order_by="MessageHistory.id")


class RecordingAudio(Base):
    """A message's audio kept in the database (IVR_RECORDINGS_STORE=database), so that every host
    plays what any host's worker copied; the message's audio_path names it (ivr/messages/audio_store.py)."""

    __tablename__ = "recording_audio"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    stored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Notification(Base):
    """Telling the team that a message waits, by one channel (email or webhook): sent by the worker,
    tried again after a pause when it fails, never in the way of a call."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    # pending | sent | failed | skipped (the message was recorded again before it was sent)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class MessageNote(Base):
    __tablename__ = "message_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    message: Mapped[Message] = relationship(back_populates="notes")
    agent: Mapped[Agent] = relationship()


class MessageHistory(Base):
    """Who did what to a message, and when (agent None: the system or the caller)."""

    __tablename__ = "message_history"
    # What each agent did today, for a supervisor (migration 0011).
    __table_args__ = (Index("ix_message_history_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    message: Mapped[Message] = relationship(back_populates="history")
    agent: Mapped[Agent | None] = relationship()


class OrderLookup(Base):
    """A look-up of an order on the help centre: what throttles guessing, per address and per order
    number. The address only as a keyed hash; never what was given as proof."""

    __tablename__ = "order_lookups"
    __table_args__ = (
        Index("ix_order_lookups_address_at", "address", "at"),
        Index("ix_order_lookups_number_at", "number", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    address: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(20))
    found: Mapped[bool] = mapped_column(Boolean)


class TextMessage(Base):
    """A text message to a caller with a link to the help centre (ivr/texts.py): one per call at most,
    sent by the worker, tried again after a pause when it fails."""

    __tablename__ = "texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    to_number: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    # pending | sent | failed
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    twilio_sid: Mapped[str] = mapped_column(String(64), default="")


class LoginAttempt(Base):
    """A log-in to the agents' pages: what throttles guessing (ivr/agents/throttle.py), kept for its
    window only. Never the password itself."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_name_at", "name", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
        Index("ix_login_attempts_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64), default="")
    # The known device's own id (throttle.py's cookie), "" from a browser not known.
    device: Mapped[str] = mapped_column(String(32), default="", server_default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean)


class LineVersion(Base):
    """A version of the line callers heard (ivr/versions.py): its flow, its language's prompts and
    knowledge base, each as a short hash, and when a call first heard it."""

    __tablename__ = "versions"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    language: Mapped[str] = mapped_column(String(16))
    flow: Mapped[str] = mapped_column(String(16))
    prompts: Mapped[str] = mapped_column(String(16))
    knowledge: Mapped[str] = mapped_column(String(16))
    first_heard: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class InsightVersion(Base):
    """Calls of one day (the line's time zone, at the call's start) that heard one version, by how they
    ended and what they said after self-service: the insights' figures per version."""

    __tablename__ = "insight_versions"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    version: Mapped[str] = mapped_column(String(16), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    helped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    surveyed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    survey_yes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    survey_no: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class InsightDay(Base):
    """Calls of one day (the line's time zone, at the call's start) in one language, by how they ended,
    and their answered steps: kept by ivr/insights/rollup.py, read by the supervisors' figures."""

    __tablename__ = "insight_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    helped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    transferred: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    message_left: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    gave_up: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    hung_up: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    steps: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # answers at prompts
    voice_steps: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # of those, spoken
    voice_missed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # spoken, not understood
    # Calls followed by another call from the same number within 24 hours, and of those the helped.
    called_again: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    helped_called_again: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Calls asked "did we solve what you called about?" (ivr/flows/survey.py), and their answers.
    surveyed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    survey_yes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    survey_no: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class InsightHour(Base):
    """Calls that began in one hour (0-23) of one day, in the line's time zone."""

    __tablename__ = "insight_hours"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class InsightPrompt(Base):
    """One prompt's funnel on one day: calls that reached it, went on, hung up, asked for a person
    there; steps there not understood, spoken, spoken and not understood."""

    __tablename__ = "insight_prompts"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    node: Mapped[str] = mapped_column(String(64), primary_key=True)
    reached: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    went_on: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    hung_up: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    to_person: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    not_understood: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    voice: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    voice_missed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class InsightAsked(Base):
    """Questions asked of the knowledge base on one day in one language, grouped by their normalised
    words (`key`): how many, how many found nothing, how many answers did not help, and one as said."""

    __tablename__ = "insight_asked"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    asked: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    not_found: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    not_helped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sample: Mapped[str] = mapped_column(Text, default="", server_default="")


class Experiment(Base):
    """A variant of one prompt (`kind` "prompt", `target` its catalog id) or one knowledge-base answer
    ("answer", `target` the entry's slug) in one language, heard by `share` percent of callers, each
    caller always the same arm (ivr/experiments.py). Running while `ended_at` is empty."""

    __tablename__ = "experiments"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    share: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    started_by: Mapped[str] = mapped_column(String(80), default="")
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class InsightExperiment(Base):
    """Calls of one day that heard an experiment's prompt or answer, per arm ("original" or "variant"):
    how many, helped, hung up there, and what they said after self-service."""

    __tablename__ = "insight_experiments"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    arm: Mapped[str] = mapped_column(String(10), primary_key=True)
    heard: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    helped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    dropped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    surveyed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    survey_yes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    survey_no: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
