"""help_events: what visitors of the help centre did (searches and what they got, answers read, votes)

Revision ID: 0021
Revises: 0020

One row per search (with its outcome: answer, options or none), per answer read, and per "Was this
helpful?" vote (yes or no, and on no why): the supervisors' insights count them beside the phone, and
list the searches that found nothing with the questions callers asked and got no answer to.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "help_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("language", sa.String(16), nullable=False, server_default="en-US"),
        sa.Column("outcome", sa.String(10), nullable=False, server_default=""),
        sa.Column("asked", sa.Text(), nullable=False, server_default=""),
        sa.Column("slug", sa.String(64), nullable=False, server_default=""),
        sa.Column("helpful", sa.Boolean(), nullable=True),
        sa.Column("reason", sa.String(20), nullable=False, server_default=""),
    )
    op.create_index("ix_help_events_kind_at", "help_events", ["kind", "at"])


def downgrade() -> None:
    op.drop_index("ix_help_events_kind_at", table_name="help_events")
    op.drop_table("help_events")
