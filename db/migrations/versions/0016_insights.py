"""insights: daily aggregates of ended calls, and which calls are already in them

Revision ID: 0016
Revises: 0015

The supervisors' figures (issue 18) are read from these day rows, which the worker keeps up to date
(ivr/insights/rollup.py), so a page for any period never reads the calls' event logs. Day and hour
are the line's (IVR_TIMEZONE) at the call's start. Calls from before this are summarised by the
worker as it finds them (`flask insights rollup` does all of them at once).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch (copy and rename) on SQLite would rebuild the busiest table.
    op.add_column("calls", sa.Column("summarised", sa.Boolean(), nullable=False, server_default=sa.false()))
    # The worker's search for ended calls not yet summarised reads this index only.
    op.create_index("ix_calls_summarised_updated", "calls", ["summarised", "updated_at"])
    op.create_table(
        "insight_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("language", sa.String(16), primary_key=True),
        *(sa.Column(name, sa.Integer(), nullable=False, server_default="0") for name in DAY_COUNTS),
    )
    op.create_table(
        "insight_hours",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("hour", sa.Integer(), primary_key=True),
        sa.Column("calls", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "insight_prompts",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("node", sa.String(64), primary_key=True),
        *(sa.Column(name, sa.Integer(), nullable=False, server_default="0") for name in PROMPT_COUNTS),
    )
    op.create_table(
        "insight_asked",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("language", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(160), primary_key=True),
        *(sa.Column(name, sa.Integer(), nullable=False, server_default="0") for name in ASKED_COUNTS),
        sa.Column("sample", sa.Text(), nullable=False, server_default=""),
    )


DAY_COUNTS = ("calls", "helped", "transferred", "message_left", "gave_up", "hung_up", "steps", "voice_steps",
              "voice_missed")  # fmt: skip
PROMPT_COUNTS = ("reached", "went_on", "hung_up", "to_person", "not_understood", "voice", "voice_missed")
ASKED_COUNTS = ("asked", "not_found", "not_helped")


def downgrade() -> None:
    for table in ("insight_asked", "insight_prompts", "insight_hours", "insight_days"):
        op.drop_table(table)
    op.drop_index("ix_calls_summarised_updated", "calls")
    op.drop_column("calls", "summarised")
