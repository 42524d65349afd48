"""texts: a text message to a caller with a link to the help centre, one per call at most

Revision ID: 0025
Revises: 0024

After an answer, a product or an order status, a caller may have the link to that page of the help
centre texted to them (ivr/texts.py); the worker sends it and tries again after a pause when it fails.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "texts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_sid", sa.String(64), nullable=False, unique=True),
        sa.Column("to_number", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("twilio_sid", sa.String(64), nullable=False),
    )
    op.create_index("ix_texts_next_try_at", "texts", ["next_try_at"])


def downgrade() -> None:
    op.drop_table("texts")
