"""faq_entries.language and faq_queries.language: the knowledge base per language

Revision ID: 0014
Revises: 0013

An entry answers callers of one language (issue 17); the same slug may be an entry in each language,
so the slug is unique per language now. What a caller asked is kept with the call's language, so the
keepers of the answers see which language's entry helped. Entries and questions from before this are
American English. Downgrading keeps only the en-US entries (the slug is unique alone again).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# 0003 left the slug's unique constraint unnamed: SQLite's copy of the table names it by this convention,
# PostgreSQL has its own name for it (found by its column).
NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _slug_unique() -> str:
    bind = op.get_bind()
    for constraint in sa.inspect(bind).get_unique_constraints("faq_entries"):
        if constraint["column_names"] == ["slug"] and constraint.get("name"):
            return str(constraint["name"])
    return "uq_faq_entries_slug"


def upgrade() -> None:
    name = _slug_unique()
    with op.batch_alter_table("faq_entries", naming_convention=NAMES) as entries:
        entries.add_column(sa.Column("language", sa.String(16), nullable=False, server_default="en-US"))
        entries.drop_constraint(name, type_="unique")
        entries.create_unique_constraint("uq_faq_entries_language_slug", ["language", "slug"])
    with op.batch_alter_table("faq_queries") as queries:
        queries.add_column(sa.Column("language", sa.String(16), nullable=False, server_default="en-US"))


def downgrade() -> None:
    with op.batch_alter_table("faq_queries") as queries:
        queries.drop_column("language")
    op.execute("DELETE FROM faq_entries WHERE language <> 'en-US'")
    with op.batch_alter_table("faq_entries") as entries:
        entries.drop_constraint("uq_faq_entries_language_slug", type_="unique")
        entries.drop_column("language")
        entries.create_unique_constraint("uq_faq_entries_slug", ["slug"])
