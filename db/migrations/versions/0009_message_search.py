"""messages.search_text and the database's full-text index over it

Revision ID: 0009
Revises: 0008

The agents' queue finds messages by the words in messages.search_text (the customer's name and
account, the caller's number in several forms, numbers and words they said; ivr/messages/search.py).
SQLite indexes it with an FTS5 table kept in step by triggers; PostgreSQL with a generated tsvector
column and a GIN index. Existing messages get their documents here; `flask --app wsgi queue reindex`
writes them again after the normalisation changes. A later migration that makes SQLite copy the
messages table (a batch "move and copy") must create the three triggers again.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as messages:
        messages.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    _documents()  # before the index: it is then built from them at once
    op.create_index("ix_messages_status_assignee", "messages", ["status", "assignee_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE messages ADD COLUMN search_vector tsvector"
            " GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED"
        )
        op.execute("CREATE INDEX ix_messages_search_vector ON messages USING gin (search_vector)")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE message_search USING fts5(search_text, content='messages', content_rowid='id',"
            " tokenize='unicode61 remove_diacritics 0')"
        )
        op.execute("INSERT INTO message_search(message_search) VALUES ('rebuild')")
        for trigger in (
            "CREATE TRIGGER message_search_insert AFTER INSERT ON messages BEGIN"
            " INSERT INTO message_search(rowid, search_text) VALUES (new.id, new.search_text); END",
            "CREATE TRIGGER message_search_delete AFTER DELETE ON messages BEGIN"
            " INSERT INTO message_search(message_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);"
            " END",
            "CREATE TRIGGER message_search_update AFTER UPDATE OF search_text ON messages BEGIN"
            " INSERT INTO message_search(message_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);"
            " INSERT INTO message_search(rowid, search_text) VALUES (new.id, new.search_text); END",
        ):
            op.execute(trigger)


def _documents() -> None:
    """Documents for the messages already there, read with plain SQL (the models may have moved on)."""
    from types import SimpleNamespace

    from ivr.messages.search import document

    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT m.id, m.caller, m.transcript, c.name, c.account_number, c.phone, calls.collected FROM messages m"
        " LEFT JOIN customers c ON c.id = m.customer_id"
        " LEFT JOIN calls ON calls.call_sid = m.call_sid"
    )).all()  # fmt: skip
    for row in rows:
        customer = SimpleNamespace(name=row[3], account_number=row[4], phone=row[5]) if row[3] is not None else None
        collected = row[6] if isinstance(row[6], dict) else json.loads(row[6] or "{}")
        text = document(row[1] or "", customer, row[2] or "", collected)  # type: ignore[arg-type]
        bind.execute(sa.text("UPDATE messages SET search_text = :text WHERE id = :id"), {"text": text, "id": row[0]})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_messages_search_vector")
        op.execute("ALTER TABLE messages DROP COLUMN search_vector")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER message_search_{name}")
        op.execute("DROP TABLE message_search")
    op.drop_index("ix_messages_status_assignee", "messages")
    with op.batch_alter_table("messages") as messages:
        messages.drop_column("search_text")
