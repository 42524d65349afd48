"""notifications: telling the team a message waits, by e-mail or webhook

Revision ID: 0012
Revises: 0011

A row per message and channel, written with the message (so none is lost) and sent by the worker.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_notifications_message_id", "notifications", ["message_id"])
    op.create_index("ix_notifications_next_try_at", "notifications", ["next_try_at"])


def downgrade() -> None:
    op.drop_table("notifications")
