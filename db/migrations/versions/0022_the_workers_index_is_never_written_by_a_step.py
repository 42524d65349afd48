"""calls: the worker's index on when a call began, not when it last changed

Revision ID: 0022
Revises: 0021

ix_calls_summarised_updated (0016) held `updated_at`, which every call step writes: each step moved
the call's entry in that index, the only index a step touched. The worker finds calls to roll up
in the order they began instead (`started_at`, written once, when the call begins), so a step's
UPDATE writes its row and no index (bench/webhooks.py).
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_calls_summarised_started", "calls", ["summarised", "started_at"])
    op.drop_index("ix_calls_summarised_updated", "calls")


def downgrade() -> None:
    op.create_index("ix_calls_summarised_updated", "calls", ["summarised", "updated_at"])
    op.drop_index("ix_calls_summarised_started", "calls")
