"""recordings kept in the database, where every host reads them

Revision ID: 0031
Revises: 0030

IVR_RECORDINGS_STORE=database (the default on PostgreSQL) keeps each message's audio in this table
instead of one host's folder (ivr/messages/audio_store.py); `flask recordings move` moves copies
between the two.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recording_audio",
        sa.Column("name", sa.String(120), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("recording_audio")
