"""message language: the language the caller spoke when they left the message

Revision ID: 0015
Revises: 0014

So agents see each message's language, filter the queue by it, and the worker transcribes a message
only with a speech model for its language (issue 17). Messages left before this get their call's
language (every call before issue 17 was en-US).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch (copy and rename) on SQLite would drop the search triggers of 0009.
    op.add_column("messages", sa.Column("language", sa.String(16), nullable=False, server_default="en-US"))
    op.execute(
        "UPDATE messages SET language = (SELECT calls.language FROM calls WHERE calls.call_sid = messages.call_sid)"
        " WHERE EXISTS (SELECT 1 FROM calls WHERE calls.call_sid = messages.call_sid AND calls.language <> '')"
    )
    # The queue's counts filtered by a language read this index alone, as the unfiltered ones read 0009's.
    op.create_index("ix_messages_language_status", "messages", ["language", "status", "assignee_id"])


def downgrade() -> None:
    op.drop_index("ix_messages_language_status", "messages")
    op.drop_column("messages", "language")
