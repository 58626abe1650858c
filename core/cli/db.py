"""``sublarr db``: show and upgrade the database schema revision."""

from __future__ import annotations

import click

from sublarr.core.errors import SublarrError


def _describe(url: str | None) -> str:
    from sublarr.core.db.engine import resolve_database_url

    return resolve_database_url(url, create_dir=False).render_as_string(hide_password=True)


@click.group("db")
def db_group() -> None:
    """The database: where it is and which schema revision it has."""


@db_group.command("upgrade")
@click.option("--url", help="SQLAlchemy URL; default SUBLARR_DATABASE_URL or <data dir>/sublarr.db.")
def upgrade_command(url: str | None) -> None:
    """Migrate the database to the newest schema revision (creating it when needed)."""
    from sublarr.core.db.engine import upgrade_db

    try:
        revision = upgrade_db(url)
    except SublarrError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{_describe(url)}: at revision {revision} (head)")


@db_group.command("current")
@click.option("--url", help="SQLAlchemy URL; default SUBLARR_DATABASE_URL or <data dir>/sublarr.db.")
def current_command(url: str | None) -> None:
    """Print the database's schema revision and the newest one this sublarr ships."""
    from sublarr.core.db.engine import current_revision, head_revision

    try:
        current = current_revision(url)
    except SublarrError as exc:
        raise click.ClickException(str(exc)) from None
    head = head_revision()
    if current is None:
        state = "not initialised: run `sublarr db upgrade`"
    elif current == head:
        state = "up to date"
    else:
        state = f"behind head {head}: run `sublarr db upgrade`"
    click.echo(f"{_describe(url)}: revision {current or 'none'} ({state})")
