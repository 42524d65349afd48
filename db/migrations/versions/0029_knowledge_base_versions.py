"""faq_versions: every state of a knowledge-base entry, with who made it and when, for undo

Revision ID: 0029
Revises: 0028

The supervisors' editor (ivr/agents/entries.py) and `faq import` keep each change of an entry as a
version, so a change that made callers worse off can be seen and taken back. Entries already there
get their present state as a first version "before versions", at their last revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(80), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
    )
    op.create_index("ix_faq_versions_language_slug_id", "faq_versions", ["language", "slug", "id"])
    # The recent questions of a language, which the editor's preview asks the changed base again.
    op.create_index("ix_faq_queries_language_at", "faq_queries", ["language", "at"])
    op.execute(
        sa.text(
            "INSERT INTO faq_versions (language, slug, at, by, action, category, title, question, answer, keywords)"
            " SELECT language, slug, COALESCE(revised_at, CURRENT_TIMESTAMP), 'before versions', 'created',"
            " category, title, question, answer, keywords FROM faq_entries ORDER BY language, slug"
        )
    )


def downgrade() -> None:
    op.drop_index("ix_faq_queries_language_at", "faq_queries")
    op.drop_index("ix_faq_versions_language_slug_id", "faq_versions")
    op.drop_table("faq_versions")
