"""Storage: SQLAlchemy engine and session, models, CRUD modules and Alembic migrations.

``init_db()`` / ``get_engine()`` / ``session_scope()`` / ``dispose_db()`` come from
``sublarr.core.db.engine``; the CRUD functions live in ``sublarr.core.db.hooks`` (hooks,
webhooks, execution log) and ``sublarr.core.db.scoring`` (weights, provider modifiers).
"""

from __future__ import annotations

from sublarr.core.db.engine import (
    current_engine,
    current_revision,
    dispose_db,
    get_engine,
    head_revision,
    init_db,
    resolve_database_url,
    session_scope,
    upgrade_db,
)

__all__ = [
    "current_revision",
    "dispose_db",
    "current_engine",
    "get_engine",
    "head_revision",
    "init_db",
    "resolve_database_url",
    "session_scope",
    "upgrade_db",
]
