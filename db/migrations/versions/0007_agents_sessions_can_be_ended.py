"""agents.session_generation and agents.disabled: every session of an agent can be ended at once

Revision ID: 0007
Revises: 0006

A session remembers the agent's generation when it began; log-out, a new password and disabling the
agent move the generation on, and sessions of an earlier one are no longer let in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as agents:
        agents.add_column(sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))
        agents.add_column(sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("agents") as agents:
        agents.drop_column("disabled")
        agents.drop_column("session_generation")
