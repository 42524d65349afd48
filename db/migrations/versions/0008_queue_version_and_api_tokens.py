"""messages.changed_at (when anything about a message last changed) and agents.api_token_hash

Revision ID: 0008
Revises: 0007

The newest changed_at is the queue's version: an API client that polls sends the ETag it was given
and, while nothing changed, gets 304 Not Modified without the queue being read (an index lookup).
Existing messages start at the time they were left. API clients authenticate with a token, of
which only its SHA-256 is kept: no password hash is computed in the workers that answer calls.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as messages:
        messages.add_column(sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE messages SET changed_at = created_at")
    with op.batch_alter_table("messages") as messages:
        messages.alter_column("changed_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        messages.create_index("ix_messages_changed_at", ["changed_at"])
    with op.batch_alter_table("agents") as agents:
        agents.add_column(sa.Column("api_token_hash", sa.String(64), nullable=True))
        agents.create_unique_constraint("uq_agents_api_token_hash", ["api_token_hash"])


def downgrade() -> None:
    with op.batch_alter_table("agents") as agents:
        agents.drop_constraint("uq_agents_api_token_hash", type_="unique")
        agents.drop_column("api_token_hash")
    with op.batch_alter_table("messages") as messages:
        messages.drop_index("ix_messages_changed_at")
        messages.drop_column("changed_at")
