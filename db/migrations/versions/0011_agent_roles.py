"""agents.role (agent or supervisor), and an index for what each agent did today

Revision ID: 0011
Revises: 0010

A supervisor also sees everyone's workload (/agent/team) and reassigns messages. Every agent there
before is an "agent"; `agents role NAME supervisor` makes one a supervisor.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as agents:
        agents.add_column(sa.Column("role", sa.String(20), nullable=False, server_default="agent"))
    op.create_index("ix_message_history_action_at", "message_history", ["action", "at"])


def downgrade() -> None:
    op.drop_index("ix_message_history_action_at", "message_history")
    with op.batch_alter_table("agents") as agents:
        agents.drop_column("role")
