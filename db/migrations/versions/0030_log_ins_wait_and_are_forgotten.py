"""log-ins wait rather than lock, known devices, attempts kept for their window only

Revision ID: 0030
Revises: 0029

ivr/agents/throttle.py counts failed log-ins per address across names and from a known device (or
an address the agent has logged in from lately, kept on the agent's row), and
the worker forgets attempts after the window; the failures an agent is told at log-in are counted on
the agent's row instead of read back from old attempts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("login_attempts") as table:
        table.add_column(sa.Column("device", sa.String(32), nullable=False, server_default=""))
    op.create_index("ix_login_attempts_address_at", "login_attempts", ["address", "at"])
    op.create_index("ix_login_attempts_at", "login_attempts", ["at"])
    with op.batch_alter_table("agents") as table:
        table.add_column(sa.Column("failed_log_ins", sa.Integer(), nullable=False, server_default="0"))
        table.add_column(sa.Column("known_addresses", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents") as table:
        table.drop_column("known_addresses")
        table.drop_column("failed_log_ins")
    op.drop_index("ix_login_attempts_at", "login_attempts")
    op.drop_index("ix_login_attempts_address_at", "login_attempts")
    with op.batch_alter_table("login_attempts") as table:
        table.drop_column("device")
