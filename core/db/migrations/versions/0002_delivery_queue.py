"""The delivery pipeline: the durable ``deliveries`` queue and ``webhook_options``.

``deliveries`` holds one row per (hook or webhook, event) to run, kept across attempts;
``webhook_options`` adds method, custom headers and the disabled reason to a webhook
without touching the plan's ``webhook_configs`` columns (see ``sublarr.core.db.models``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

EMPTY = sa.text("''")


def upgrade() -> None:
    op.create_table(
        "webhook_options",
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False, server_default=sa.text("'POST'")),
        sa.Column("headers", sa.Text(), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("disabled_reason", sa.Text(), nullable=False, server_default=EMPTY),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhook_configs.id"],
            name="fk_webhook_options_webhook_id_webhook_configs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("webhook_id", name="pk_webhook_options"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("event_name", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("event_timestamp", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False, server_default=sa.text("'pending'")),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("lease_until", sa.Float()),
        sa.Column("claimed_by", sa.Text()),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=EMPTY),
        sa.Column("created_at", sa.Text(), nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")),
        sa.Column("finished_at", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
    )
    op.create_index("ix_deliveries_status_next_attempt_at", "deliveries", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_status_next_attempt_at", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_table("webhook_options")
