"""product_texts.revised_at: the version of a language's product names that the phone's index of them is built for

Revision ID: 0026
Revises: 0025

The phone finds the product a caller names in an index of every name and keyword as callers' words
(ivr/products/heard.py), built by each process and built again when the names change: this column,
set on every change of a product's words, tells when (as faq_entries.revised_at does for the
knowledge base). Rows already there are given the time of the upgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no table rebuilt: SQLite's full-text triggers on the table stay as they are).
    op.add_column("product_texts", sa.Column("revised_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text("UPDATE product_texts SET revised_at = CURRENT_TIMESTAMP"))
    op.create_index("ix_product_texts_language_revised_at", "product_texts", ["language", "revised_at"])


def downgrade() -> None:
    op.drop_index("ix_product_texts_language_revised_at", "product_texts")
    # Not a batch (it would build the table again, without SQLite's triggers): SQLite 3.35+ drops a column.
    op.execute(sa.text("ALTER TABLE product_texts DROP COLUMN revised_at"))
