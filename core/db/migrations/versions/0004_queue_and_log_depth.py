"""Indexes that keep the delivery queue and the execution log fast whatever their size.

* ``deliveries``: ``ix_deliveries_due`` (``next_attempt_at, id``) holds only ``pending``
  rows (a partial index), so claiming the next due deliveries reads a few index entries
  however many rows are running, finished or waiting for a retry; it replaces
  ``ix_deliveries_status_next_attempt_at``. ``ix_deliveries_running`` (``lease_until``,
  running rows only) serves the lease checks, ``ix_deliveries_finished_at`` the purge of
  old finished deliveries: each reads only the rows it touches, and no status index
  tempts a planner away from the claim's index.
* ``hook_log``: the plan's indexes on ``hook_id`` and ``webhook_id`` become
  ``(hook_id, id)`` and ``(webhook_id, id)``, so a page of one hook's or webhook's log
  (newest first, by id cursor) is an index range; ``ix_hook_log_event_name``
  (``event_name, id``) does the same for an event, and ``ix_hook_log_success``
  (``success, id``, failed rows only) for failures.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

PENDING = sa.text("status = 'pending'")
RUNNING = sa.text("status = 'running'")
FAILED = sa.text("success = 0")


def upgrade() -> None:
    op.drop_index("ix_deliveries_status_next_attempt_at", table_name="deliveries")
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["next_attempt_at", "id"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.create_index(
        "ix_deliveries_running", "deliveries", ["lease_until"], sqlite_where=RUNNING, postgresql_where=RUNNING
    )
    op.create_index("ix_deliveries_finished_at", "deliveries", ["finished_at"])
    op.drop_index("ix_hook_log_hook_id", table_name="hook_log")
    op.create_index("ix_hook_log_hook_id", "hook_log", ["hook_id", "id"])
    op.drop_index("ix_hook_log_webhook_id", table_name="hook_log")
    op.create_index("ix_hook_log_webhook_id", "hook_log", ["webhook_id", "id"])
    op.create_index("ix_hook_log_event_name", "hook_log", ["event_name", "id"])
    op.create_index(
        "ix_hook_log_success", "hook_log", ["success", "id"], sqlite_where=FAILED, postgresql_where=FAILED
    )


def downgrade() -> None:
    op.drop_index("ix_hook_log_success", table_name="hook_log")
    op.drop_index("ix_hook_log_event_name", table_name="hook_log")
    op.drop_index("ix_hook_log_webhook_id", table_name="hook_log")
    op.create_index("ix_hook_log_webhook_id", "hook_log", ["webhook_id"])
    op.drop_index("ix_hook_log_hook_id", table_name="hook_log")
    op.create_index("ix_hook_log_hook_id", "hook_log", ["hook_id"])
    op.drop_index("ix_deliveries_finished_at", table_name="deliveries")
    op.drop_index("ix_deliveries_running", table_name="deliveries")
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.create_index("ix_deliveries_status_next_attempt_at", "deliveries", ["status", "next_attempt_at"])
