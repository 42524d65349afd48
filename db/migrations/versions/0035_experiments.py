"""experiments: a variant of a prompt or an answer for a share of callers, and its figures per arm

Revision ID: 0035
Revises: 0034

ivr/experiments.py runs a variant for a share of callers (each caller always in the same arm); the
worker's rollup counts per day, experiment and arm the calls that heard it, the helped, those who hung
up there and their survey answers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

COUNTS = ("heard", "helped", "dropped", "surveyed", "survey_yes", "survey_no")


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("share", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(80), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "insight_experiments",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("experiment_id", sa.Integer(), primary_key=True),
        sa.Column("arm", sa.String(10), primary_key=True),
        *(sa.Column(name, sa.Integer(), nullable=False, server_default="0") for name in COUNTS),
    )


def downgrade() -> None:
    op.drop_table("insight_experiments")
    op.drop_table("experiments")
