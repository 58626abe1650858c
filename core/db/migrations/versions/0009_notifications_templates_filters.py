"""Notification targets (Apprise), webhook body templates and per-target filters.

* ``notification_targets``: one Apprise URL (a credential: shown masked), the events it
  gets (a JSON list, or ``["*"]``), title/body templates, filters, retry and failure
  state like a webhook's.
* ``webhook_options``: ``body_template`` (empty: the fixed Standard Webhooks envelope),
  ``content_type`` of a templated body, ``filters`` (a JSON list of conditions).
* ``hook_log.notification_id``: the notification target a row belongs to
  (``hook_type`` ``notification``), indexed like ``hook_id``/``webhook_id``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "notification_targets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("events", sa.Text(), nullable=False, server_default=sa.text("'[\"*\"]'")),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title_template", sa.Text(), nullable=False, server_default=sa.text("''")),
        sa.Column("body_template", sa.Text(), nullable=False, server_default=sa.text("''")),
        sa.Column("filters", sa.Text(), nullable=False, server_default=sa.text("'[]'")),
        sa.Column("enabled", sa.Integer(), nullable=False, server_default=sa.text("1")),
        sa.Column("retry_count", sa.Integer(), nullable=False, server_default=sa.text("3")),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False, server_default=sa.text("10")),
        sa.Column("last_triggered_at", sa.Text(), nullable=False, server_default=sa.text("''")),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=sa.text("''")),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("trigger_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("disabled_reason", sa.Text(), nullable=False, server_default=sa.text("''")),
        sa.Column("created_at", sa.Text(), nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")),
        sa.Column("updated_at", sa.Text(), nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")),
        sa.PrimaryKeyConstraint("id", name="pk_notification_targets"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("webhook_options") as batch:
        batch.add_column(sa.Column("body_template", sa.Text(), nullable=False, server_default=sa.text("''")))
        batch.add_column(
            sa.Column("content_type", sa.Text(), nullable=False, server_default=sa.text("'application/json'"))
        )
        batch.add_column(sa.Column("filters", sa.Text(), nullable=False, server_default=sa.text("'[]'")))
    with op.batch_alter_table("hook_log") as batch:
        batch.add_column(sa.Column("notification_id", sa.Integer(), nullable=True))
    op.create_index("ix_hook_log_notification_id", "hook_log", ["notification_id"])


def downgrade() -> None:
    op.drop_index("ix_hook_log_notification_id", table_name="hook_log")
    with op.batch_alter_table("hook_log") as batch:
        batch.drop_column("notification_id")
    with op.batch_alter_table("webhook_options") as batch:
        batch.drop_column("filters")
        batch.drop_column("content_type")
        batch.drop_column("body_template")
    op.drop_table("notification_targets")
