"""Indexes for a caller's earlier contact: messages by number and by customer, calls by number

Revision ID: 0010
Revises: 0009

The message page shows the caller's earlier messages and calls ("third message this week"); these
make that a lookup at any size. calls.from_number is written once, when a call begins, so a call's
steps do not maintain the index.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_caller_created", "messages", ["caller", "created_at"])
    op.create_index("ix_messages_customer_created", "messages", ["customer_id", "created_at"])
    op.create_index("ix_calls_from_started", "calls", ["from_number", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_calls_from_started", "calls")
    op.drop_index("ix_messages_customer_created", "messages")
    op.drop_index("ix_messages_caller_created", "messages")
