"""callers asked whether the call solved it, counted in the insights

Revision ID: 0032
Revises: 0031

ivr/flows/survey.py asks a share of the callers who got something done "did we solve what you
called about?"; the worker's rollup counts per day the calls asked and their yes and no.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

COLUMNS = ("surveyed", "survey_yes", "survey_no")


def upgrade() -> None:
    with op.batch_alter_table("insight_days") as table:
        for name in COLUMNS:
            table.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("insight_days") as table:
        for name in reversed(COLUMNS):
            table.drop_column(name)
