"""``sublarr db``: show and upgrade the database schema revision.

Without ``--url`` the commands use the configured database (``sublarr config show``:
``SUBLARR_DATABASE_URL``, else ``<data dir>/sublarr.db``); errors reach the user through
the root group's handler as one ``Error:`` line.
"""

from __future__ import annotations

import click

_URL_HELP = "SQLAlchemy URL.  [default: the configured database, see `sublarr config show`]"


def _describe(url: str | None) -> str:
    from sublarr.core.db.engine import resolve_database_url

    return resolve_database_url(url, create_dir=False).render_as_string(hide_password=True)


@click.group("db")
def db_group() -> None:
    """The database: where it is and which schema revision it has."""


@db_group.command("upgrade")
@click.option("--url", help=_URL_HELP)
def upgrade_command(url: str | None) -> None:
    """Migrate the database to the newest schema revision (creating it when needed)."""
    from sublarr.core.db.engine import upgrade_db

    revision = upgrade_db(url)
    click.echo(f"{_describe(url)}: at revision {revision} (head)")


@db_group.command("current")
@click.option("--url", help=_URL_HELP)
def current_command(url: str | None) -> None:
    """Print the database's schema revision and the newest one this sublarr ships."""
    from sublarr.core.db.engine import current_revision, head_revision

    current = current_revision(url)
    head = head_revision()
    if current is None:
        state = "not initialised: run `sublarr db upgrade`"
    elif current == head:
        state = "up to date"
    else:
        state = f"behind head {head}: run `sublarr db upgrade`"
    click.echo(f"{_describe(url)}: revision {current or 'none'} ({state})")
