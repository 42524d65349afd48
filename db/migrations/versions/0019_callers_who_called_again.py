"""insights: calls followed by another call from the same number within 24 hours

Revision ID: 0019
Revises: 0018

A caller who calls again within a day did not help themselves, whatever the first call's outcome: the
supervisors' containment leaves those calls out (ivr/insights/rollup.py counts each call once, when
the next call from its number is rolled up).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

COUNTS = ("called_again", "helped_called_again")


def upgrade() -> None:
    for name in COUNTS:
        op.add_column("insight_days", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    for name in COUNTS:
        op.execute(f"ALTER TABLE insight_days DROP COLUMN {name}")
