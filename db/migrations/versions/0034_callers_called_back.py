"""callback requests: the number to call, when, how many tries, what came of it

Revision ID: 0034
Revises: 0033

A caller who would have waited for a person asks to be called back (ivr/flows/callback.py); the
request is a message in the desk's queue (channel "callback") that is due at a time: the queue shows
due callbacks first, and agents record what came of each call (ivr/messages/callbacks.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


COLUMNS = (
    sa.Column("callback_to", sa.String(32), nullable=False, server_default=""),
    sa.Column("callback_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("callback_due_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("callback_tries", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("callback_first_try_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("callback_result", sa.String(20), nullable=False, server_default=""),
)


def upgrade() -> None:
    # Plain ADD COLUMNs: a batch (copy and rename) on SQLite would drop the search triggers of 0009.
    for column in COLUMNS:
        op.add_column("messages", column)
    op.create_index("ix_messages_callback_due_at", "messages", ["callback_due_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_callback_due_at", table_name="messages")
    for column in reversed(COLUMNS):
        op.drop_column("messages", column.name)
