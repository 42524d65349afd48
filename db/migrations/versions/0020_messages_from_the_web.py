"""messages from the help centre: which channel a message came by, whom to answer, where it came from

Revision ID: 0020
Revises: 0019

A message sent from the help centre's form (/help/contact) lands in the same queue as a voice message:
written, not recorded, so it has no audio and its words are the visitor's. `contact_name` and
`contact_email` are whom the team answers; `source` is a keyed hash of the sender's address (never the
address itself), which limits how many messages one address may send in an hour.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("channel", sa.String(10), nullable=False, server_default="phone"))
    op.add_column("messages", sa.Column("contact_name", sa.String(120), nullable=False, server_default=""))
    op.add_column("messages", sa.Column("contact_email", sa.String(254), nullable=False, server_default=""))
    op.add_column("messages", sa.Column("source", sa.String(64), nullable=False, server_default=""))
    op.create_index("ix_messages_source_created", "messages", ["source", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_source_created", table_name="messages")
    for name in ("source", "contact_email", "contact_name", "channel"):
        op.execute(f"ALTER TABLE messages DROP COLUMN {name}")
