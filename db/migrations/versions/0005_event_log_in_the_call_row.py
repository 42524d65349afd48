"""the call event log moves into the call's row (calls.events), one write per step

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

EVENT_LOG = sa.JSON().with_variant(JSONB(), "postgresql")
FIELDS = ("node", "input_kind", "input_value", "matched", "next_node", "said")


def upgrade() -> None:
    op.add_column("calls", sa.Column("events", EVENT_LOG, nullable=False, server_default=sa.text("'[]'")))
    bind = op.get_bind()
    logs: dict[str, list[dict]] = defaultdict(list)
    rows = bind.execute(sa.text(f"SELECT call_sid, seq, at, {', '.join(FIELDS)} FROM call_events ORDER BY call_sid, seq"))
    for call_sid, seq, at, *values in rows:
        at = at.isoformat() if hasattr(at, "isoformat") else str(at or "")
        logs[call_sid].append({"step": seq, "at": at, **dict(zip(FIELDS, values, strict=True))})
    calls = sa.table("calls", sa.column("call_sid", sa.String), sa.column("events", EVENT_LOG))
    for call_sid, events in logs.items():
        bind.execute(calls.update().where(calls.c.call_sid == call_sid).values(events=events))
    op.drop_table("call_events")


def downgrade() -> None:
    bind = op.get_bind()
    rows = [
        {"call_sid": call_sid, "seq": e.get("step", 0), "at": _time(e.get("at")), **{n: e.get(n, "") for n in FIELDS}}
        for call_sid, log in bind.execute(sa.text("SELECT call_sid, events FROM calls"))
        for e in (json.loads(log) if isinstance(log, str) else log) or []
    ]
    # First the column (SQLite rebuilds the table for it), then the table that refers to calls.
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("events")
    events = op.create_table(
        "call_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("input_kind", sa.String(length=16), nullable=False),
        sa.Column("input_value", sa.String(length=255), nullable=False),
        sa.Column("matched", sa.String(length=64), nullable=False),
        sa.Column("next_node", sa.String(length=64), nullable=False),
        sa.Column("said", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["call_sid"], ["calls.call_sid"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_sid", "seq"),
    )
    if rows:
        op.bulk_insert(events, rows)


def _time(text: str | None) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text or "")
    except ValueError:
        return dt.datetime.now(dt.UTC)
