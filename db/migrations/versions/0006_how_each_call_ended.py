"""calls.outcome: how each call ended (helped, transferred, message left, gave up, hung up)

Revision ID: 0006
Revises: 0005

Calls made before this are given what can be told from the database: a completed transfer, a
message left, or else, for an ended call, hung up (whether it was helped was not recorded then).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No index: a step writes the call's row, and an index would be one more B-tree per step; the
    # outcome is counted in reports, where a scan of the calls is fine.
    op.add_column("calls", sa.Column("outcome", sa.String(20), nullable=True))
    bind = op.get_bind()
    # The state as ivr/calls.py writes it (json.dumps): a transfer that an agent answered.
    bind.execute(sa.text(
        "UPDATE calls SET outcome = 'transferred' WHERE outcome IS NULL"
        " AND CAST(collected AS TEXT) LIKE '%\"transfer_status\": \"completed\"%'"
    ))  # fmt: skip
    bind.execute(sa.text(
        "UPDATE calls SET outcome = 'message_left' WHERE outcome IS NULL AND call_sid IN (SELECT call_sid FROM messages)"
    ))  # fmt: skip
    bind.execute(sa.text("UPDATE calls SET outcome = 'hung_up' WHERE outcome IS NULL AND ended_at IS NOT NULL"))


def downgrade() -> None:
    op.drop_column("calls", "outcome")
