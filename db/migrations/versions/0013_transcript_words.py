"""transcript words: each word of a transcript with the recogniser's confidence in it

Revision ID: 0013
Revises: 0012

So agents' pages can grey the words the recogniser was unsure of, and say when a transcript as a
whole is uncertain. Transcripts made before this have no words kept (an empty list).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch (copy and rename) on SQLite would drop the search triggers of 0009.
    op.add_column("messages", sa.Column("transcript_words", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    op.drop_column("messages", "transcript_words")
