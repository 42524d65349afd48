"""products, their words in each language, and their categories

Revision ID: 0023
Revises: 0022

The product directory (ivr/products/): a product's code, category, price (in the line's currency),
availability and sizes; its name, description, colours and the words callers use for it, one row
per language; a category's name in each language. Loaded with `flask --app wsgi products import`.

The directory's search (ivr/products/search.py) matches product_texts.search_name and search_text:
SQLite with an FTS5 table kept in step by triggers, PostgreSQL with a generated tsvector column
(what a product is called, its name, code and keywords, weighted above the rest) and a GIN index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "product_categories",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("names", sa.JSON(), nullable=False),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("category", sa.String(32), sa.ForeignKey("product_categories.code"), nullable=False),
        sa.Column("price", sa.Numeric(12, 2), nullable=False),
        sa.Column("availability", sa.String(20), nullable=False),
        sa.Column("sizes", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_products_category", "products", ["category"])
    op.create_table(
        "product_texts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("product_id", sa.Integer(), sa.ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("colours", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("search_name", sa.Text(), nullable=False, server_default=""),
        sa.Column("search_text", sa.Text(), nullable=False, server_default=""),
        sa.UniqueConstraint("product_id", "language", name="uq_product_texts_product_language"),
    )
    op.create_index("ix_product_texts_language_name", "product_texts", ["language", "name"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE product_texts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS"
            " (setweight(to_tsvector('simple', search_name), 'A') || setweight(to_tsvector('simple', search_text), 'B'))"
            " STORED"
        )
        op.execute("CREATE INDEX ix_product_texts_search_vector ON product_texts USING gin (search_vector)")
        return
    op.execute(
        "CREATE VIRTUAL TABLE product_search USING fts5(search_name, search_text, content='product_texts',"
        " content_rowid='id', tokenize='unicode61 remove_diacritics 0')"
    )
    columns = "search_name, search_text"
    for trigger in (
        f"CREATE TRIGGER product_search_insert AFTER INSERT ON product_texts BEGIN"
        f" INSERT INTO product_search(rowid, {columns}) VALUES (new.id, new.search_name, new.search_text); END",
        f"CREATE TRIGGER product_search_delete AFTER DELETE ON product_texts BEGIN"
        f" INSERT INTO product_search(product_search, rowid, {columns})"
        f" VALUES ('delete', old.id, old.search_name, old.search_text); END",
        f"CREATE TRIGGER product_search_update AFTER UPDATE OF {columns} ON product_texts BEGIN"
        f" INSERT INTO product_search(product_search, rowid, {columns})"
        f" VALUES ('delete', old.id, old.search_name, old.search_text);"
        f" INSERT INTO product_search(rowid, {columns}) VALUES (new.id, new.search_name, new.search_text); END",
    ):
        op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER product_search_{name}")
        op.execute("DROP TABLE product_search")
    op.drop_index("ix_product_texts_language_name", "product_texts")
    op.drop_table("product_texts")
    op.drop_index("ix_products_category", "products")
    op.drop_table("products")
    op.drop_table("product_categories")
