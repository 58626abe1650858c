"""Link each ``hook_log`` row to the delivery it records, so a delivery can be sent again.

``hook_log.delivery_id`` is the id of the queued delivery (``deliveries.id``, also the
``webhook-id`` receivers see) whose attempt the row records; empty (NULL) for rows written
by ``log_hook_execution`` or by a Test run. Indexed: the log is filtered by it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("hook_log") as batch:
        batch.add_column(sa.Column("delivery_id", sa.Text(), nullable=True))
    op.create_index("ix_hook_log_delivery_id", "hook_log", ["delivery_id"])


def downgrade() -> None:
    op.drop_index("ix_hook_log_delivery_id", table_name="hook_log")
    with op.batch_alter_table("hook_log") as batch:
        batch.drop_column("delivery_id")
