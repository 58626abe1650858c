"""The five tables of the events/hooks/scoring plan.

hook_configs, webhook_configs, hook_log, scoring_weights and provider_score_modifiers,
with the plan's columns, defaults and indexes (see ``sublarr.core.db.models``).

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

NOW = sa.text("CURRENT_TIMESTAMP")
EMPTY = sa.text("''")
AUTOINCREMENT = {"sqlite_autoincrement": True}


def _timestamp(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=False, server_default=NOW)


def upgrade() -> None:
    op.create_table(
        "hook_configs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("event_name", sa.Text(), nullable=False),
        sa.Column("hook_type", sa.Text(), server_default=sa.text("'script'")),
        sa.Column("enabled", sa.Integer(), server_default=sa.text("1")),
        sa.Column("script_path", sa.Text(), server_default=EMPTY),
        sa.Column("timeout_seconds", sa.Integer(), server_default=sa.text("30")),
        sa.Column("last_triggered_at", sa.Text(), server_default=EMPTY),
        sa.Column("last_status", sa.Text(), server_default=EMPTY),
        sa.Column("trigger_count", sa.Integer(), server_default=sa.text("0")),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_hook_configs"),
        **AUTOINCREMENT,
    )
    op.create_index("ix_hook_configs_event_name", "hook_configs", ["event_name"])

    op.create_table(
        "webhook_configs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("event_name", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), server_default=EMPTY),
        sa.Column("enabled", sa.Integer(), server_default=sa.text("1")),
        sa.Column("retry_count", sa.Integer(), server_default=sa.text("3")),
        sa.Column("timeout_seconds", sa.Integer(), server_default=sa.text("10")),
        sa.Column("last_triggered_at", sa.Text(), server_default=EMPTY),
        sa.Column("last_status_code", sa.Integer(), server_default=sa.text("0")),
        sa.Column("last_error", sa.Text(), server_default=EMPTY),
        sa.Column("consecutive_failures", sa.Integer(), server_default=sa.text("0")),
        sa.Column("trigger_count", sa.Integer(), server_default=sa.text("0")),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_configs"),
        **AUTOINCREMENT,
    )
    op.create_index("ix_webhook_configs_event_name", "webhook_configs", ["event_name"])

    op.create_table(
        "hook_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("hook_id", sa.Integer()),
        sa.Column("webhook_id", sa.Integer()),
        sa.Column("event_name", sa.Text(), nullable=False),
        sa.Column("hook_type", sa.Text(), nullable=False),
        sa.Column("success", sa.Integer(), nullable=False),
        sa.Column("exit_code", sa.Integer(), server_default=sa.text("NULL")),
        sa.Column("status_code", sa.Integer(), server_default=sa.text("NULL")),
        sa.Column("stdout", sa.Text(), server_default=EMPTY),
        sa.Column("stderr", sa.Text(), server_default=EMPTY),
        sa.Column("error", sa.Text(), server_default=EMPTY),
        sa.Column(
            "duration_ms",
            sa.REAL().with_variant(DOUBLE_PRECISION(), "postgresql"),
            server_default=sa.text("0"),
        ),
        _timestamp("triggered_at"),
        sa.PrimaryKeyConstraint("id", name="pk_hook_log"),
        **AUTOINCREMENT,
    )
    op.create_index("ix_hook_log_hook_id", "hook_log", ["hook_id"])
    op.create_index("ix_hook_log_webhook_id", "hook_log", ["webhook_id"])
    op.create_index("ix_hook_log_triggered_at", "hook_log", ["triggered_at"])

    op.create_table(
        "scoring_weights",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("score_type", sa.Text(), nullable=False),
        sa.Column("weight_key", sa.Text(), nullable=False),
        sa.Column("weight_value", sa.Integer(), nullable=False),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_scoring_weights"),
        sa.UniqueConstraint("score_type", "weight_key", name="uq_scoring_weights_score_type_weight_key"),
        **AUTOINCREMENT,
    )

    op.create_table(
        "provider_score_modifiers",
        sa.Column("provider_name", sa.Text(), nullable=False),
        sa.Column("modifier", sa.Integer(), nullable=False, server_default=sa.text("0")),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("provider_name", name="pk_provider_score_modifiers"),
    )


def downgrade() -> None:
    op.drop_table("provider_score_modifiers")
    op.drop_table("scoring_weights")
    op.drop_index("ix_hook_log_triggered_at", table_name="hook_log")
    op.drop_index("ix_hook_log_webhook_id", table_name="hook_log")
    op.drop_index("ix_hook_log_hook_id", table_name="hook_log")
    op.drop_table("hook_log")
    op.drop_index("ix_webhook_configs_event_name", table_name="webhook_configs")
    op.drop_table("webhook_configs")
    op.drop_index("ix_hook_configs_event_name", table_name="hook_configs")
    op.drop_table("hook_configs")
