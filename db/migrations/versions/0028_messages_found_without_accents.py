"""The messages' search documents written again: accents off, and a phone number's last four to six digits

Revision ID: 0028
Revises: 0027

ivr/messages/search.py now folds accents ("Mäkinen" is found as "Makinen") and keeps the last four
to seven digits of the numbers a message came from: every message's document is written again, its
words stemmed as the project's prompt catalog says its language stems them (English's where none).
Nothing else changes, so going back leaves the new documents (the old search reads them too).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Read with plain SQL (the models may have moved on), a thousand at a time."""
    from ivr.errors import PromptError
    from ivr.messages.search import document, language_words
    from ivr.prompts import Catalog

    try:
        catalog: Catalog | None = Catalog.load()
    except PromptError:
        catalog = None
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.text(
            "SELECT m.id, m.caller, m.transcript, m.language, COALESCE(c.name, byphone.name),"
            " COALESCE(c.account_number, byphone.account_number), COALESCE(c.phone, byphone.phone), calls.collected"
            " FROM messages m LEFT JOIN customers c ON c.id = m.customer_id"
            " LEFT JOIN customers byphone ON m.customer_id IS NULL AND byphone.phone = m.caller"
            " LEFT JOIN calls ON calls.call_sid = m.call_sid WHERE m.id > :last ORDER BY m.id LIMIT 1000"
        ), {"last": last}).all()  # fmt: skip
        if not rows:
            return
        for row in rows:
            customer = SimpleNamespace(name=row[4], account_number=row[5], phone=row[6]) if row[4] is not None else None
            collected = row[7] if isinstance(row[7], dict) else json.loads(row[7] or "{}")
            words = language_words(row[3] or "en-US", catalog)
            text = document(row[1] or "", customer, row[2] or "", collected, words)  # type: ignore[arg-type]
            bind.execute(
                sa.text("UPDATE messages SET search_text = :text WHERE id = :id"), {"text": text, "id": row[0]}
            )
        last = rows[-1][0]


def downgrade() -> None:
    pass
