"""Stored scoring preferences: hearing-impaired, forced, uploader trust, machine-translated, cut-off.

One row per preference key that differs from its default (``hearing_impaired.mode``...),
the value as JSON text. See ``sublarr.core.scoring.preferences``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "scoring_preferences",
        sa.Column("pref_key", sa.Text(), primary_key=True),
        sa.Column("pref_value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")),
    )


def downgrade() -> None:
    op.drop_table("scoring_preferences")
