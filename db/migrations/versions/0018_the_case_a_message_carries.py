"""messages: the case a caller's reported problem carries

Revision ID: 0018
Revises: 0017

A caller who reports a problem (an order not received, a double charge...) leaves a message whose
case says what the team needs to act without calling back to ask: "order 5003: not received; status
says delivered 28 Nov" (ivr/flows/problems.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch (copy and rename) on SQLite would rebuild the queue's table.
    op.add_column("messages", sa.Column("case", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    # SQLite (3.35+) and PostgreSQL drop a column in place: a batch copy would lose the search triggers.
    op.execute('ALTER TABLE messages DROP COLUMN "case"')
