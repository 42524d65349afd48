"""messages.touched_at: when an agent last acted on a message (a claim, a note, a call, done, reopened, taken over, given)

Revision ID: 0027
Revises: 0026

changed_at moves on every write (a transcript arriving, the worker deleting old audio), so a claim
months old never looked stale. touched_at moves only with an agent's action (ivr/agents/queue.py's
add_history); messages already there take their latest action by an agent, else when they were left.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("touched_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        sa.text(
            "UPDATE messages SET touched_at = COALESCE((SELECT max(h.at) FROM message_history h"
            " WHERE h.message_id = messages.id AND h.agent_id IS NOT NULL), created_at)"
        )
    )
    # Each agent's least recently touched claim (the team page), read from the index alone.
    op.create_index("ix_messages_status_assignee_touched", "messages", ["status", "assignee_id", "touched_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_status_assignee_touched", "messages")
    # Not a batch (it would build the table again, without SQLite's full-text triggers).
    op.execute(sa.text("ALTER TABLE messages DROP COLUMN touched_at"))
