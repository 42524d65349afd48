"""account plan and last payment; PIN attempts for the phone lockout

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch_op:
        batch_op.add_column(sa.Column("plan", sa.String(length=60), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("last_payment_amount", sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column("last_payment_on", sa.Date(), nullable=True))
    op.create_table(
        "pin_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_sid", "step"),
    )
    op.create_index("ix_pin_attempts_customer_at", "pin_attempts", ["customer_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_pin_attempts_customer_at", table_name="pin_attempts")
    op.drop_table("pin_attempts")
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_column("last_payment_on")
        batch_op.drop_column("last_payment_amount")
        batch_op.drop_column("plan")
