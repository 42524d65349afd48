"""the version of the line each call heard, and figures per version

Revision ID: 0033
Revises: 0032

ivr/versions.py hashes the flow, a language's prompt catalog and knowledge base into a version; each
call keeps the one it heard, the versions table when each was first heard, and the worker's rollup
counts per day and version the calls, the helped and the survey's answers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as table:
        table.add_column(sa.Column("version", sa.String(16), nullable=False, server_default=""))
    op.create_table(
        "versions",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("flow", sa.String(16), nullable=False),
        sa.Column("prompts", sa.String(16), nullable=False),
        sa.Column("knowledge", sa.String(16), nullable=False),
        sa.Column("first_heard", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "insight_versions",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("version", sa.String(16), primary_key=True),
        *(sa.Column(name, sa.Integer(), nullable=False, server_default="0")
          for name in ("calls", "helped", "surveyed", "survey_yes", "survey_no")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("insight_versions")
    op.drop_table("versions")
    with op.batch_alter_table("calls") as table:
        table.drop_column("version")
