"""knowledge base: when each entry was last revised

Revision ID: 0017
Revises: 0016

The knowledge search is indexed once per version of a language's entries (ivr/knowledge/decision.py): their
count, the newest id and the latest revision tell every worker when to build its index again,
without reading the entries on every question.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "faq_entries",
        sa.Column("revised_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    # SQLite (3.35+) and PostgreSQL drop a column in place: a batch copy would lose the table's triggers.
    op.execute('ALTER TABLE faq_entries DROP COLUMN revised_at')
