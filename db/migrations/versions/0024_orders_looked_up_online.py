"""customers.postcode and order_lookups: an order's status on the help centre, and what throttles guessing

Revision ID: 0024
Revises: 0023

Online, an order number is shown with the last four digits of the phone number on its account or
the account's postcode (ivr/orders.py); each look-up is kept (the address as a keyed hash, the order
number, whether it was found) so that guessing is refused after a few misses, per address and per
order number.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as customers:
        customers.add_column(sa.Column("postcode", sa.String(16), nullable=True))
    op.create_table(
        "order_lookups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_order_lookups_at", "order_lookups", ["at"])
    op.create_index("ix_order_lookups_address_at", "order_lookups", ["address", "at"])
    op.create_index("ix_order_lookups_number_at", "order_lookups", ["number", "at"])


def downgrade() -> None:
    op.drop_table("order_lookups")
    with op.batch_alter_table("customers") as customers:
        customers.drop_column("postcode")
