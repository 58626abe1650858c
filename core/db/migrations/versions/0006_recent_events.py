"""``recent_events``: events of processes without a Socket.IO server, for servers to relay.

A process that emits an event and has no Socket.IO server of its own (``sublarr emit``,
``sublarr worker``, a host application's job) and no ``SUBLARR_MESSAGE_QUEUE`` appends the
event here; every ``sublarr serve`` on the same database follows the table by id and
emits the rows to its clients (``sublarr.core.events.relay``). Rows are pruned by age.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "recent_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("event_name", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_recent_events_created_at", "recent_events", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_recent_events_created_at", table_name="recent_events")
    op.drop_table("recent_events")
