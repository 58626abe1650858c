"""Alembic environment for sublarr's schema, configured from code (no alembic.ini).

``sublarr.core.db.engine`` runs it with an open connection in
``config.attributes["connection"]``; otherwise it connects to ``sqlalchemy.url``.
SQLite migrations use batch mode, so later revisions can alter tables there too.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from sublarr.core.db.migrations import compare_server_default
from sublarr.core.db.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=compare_server_default,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit the migration SQL for ``sqlalchemy.url`` without connecting (``--sql``)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through the given connection, or a new one to ``sqlalchemy.url``."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    from sublarr.core.db.engine import create_sublarr_engine

    engine = create_sublarr_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as conn:
            _configure(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
