"""``sublarr serve`` (the server) and ``sublarr config show`` / ``config keys`` (the configuration).

``serve --config/--data-dir/--host/--port`` and ``config show --config`` win over the
global options of the same name; both then use the one settings loader
(``sublarr.core.cli.context``), like every other command.
"""

from __future__ import annotations

import errno
import json
import logging
import socket
import sys
from typing import Any

import click

from sublarr.core.cli.context import settings_with, use_settings
from sublarr.core.cli.tables import format_table
from sublarr.core.settings import SECRET_KEYS, Settings, settings_markdown, settings_table

logger = logging.getLogger(__name__)

_CONFIG_HELP = "A TOML file of settings (port = 8767, ...); also SUBLARR_CONFIG_FILE or the global --config."


def check_bindable(host: str, port: int) -> None:
    """Raise ``ClickException`` at once when ``host:port`` cannot be listened on (in use, no such address)."""
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}: {exc}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            hint = " (is sublarr already running? use --port)" if exc.errno == errno.EADDRINUSE else ""
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}{hint}") from None


def mask_value(key: str, value: Any) -> Any:
    """``value`` of setting ``key`` as it may be shown: secrets and URL passwords masked."""
    if value in (None, ""):
        return value
    if key in SECRET_KEYS:
        text = str(value)
        return "********" + (text[-4:] if len(text) >= 16 else "")
    if key in ("SUBLARR_DATABASE_URL", "SUBLARR_MESSAGE_QUEUE"):
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            return make_url(str(value)).render_as_string(hide_password=True)
        except ArgumentError:
            return "(unparsable URL, hidden)"
    return value


def effective_config(settings: Settings) -> dict[str, Any]:
    """Every setting with its effective value, secrets masked, plus where the API key lives."""
    shown = {key: mask_value(key, value) for key, value in settings.as_dict().items()}
    if settings.api_key is None:
        shown["SUBLARR_API_KEY"] = f"(generated; kept in {settings.data_dir / 'api_key'})"
    if settings.log_level is None:
        shown["SUBLARR_LOG_LEVEL"] = "(warning; info for serve)"
    if settings.database_url is None:
        from sublarr.core.db.engine import DB_FILENAME

        shown["SUBLARR_DATABASE_URL"] = f"(embedded: {settings.data_dir / DB_FILENAME})"
    return shown


@click.command("serve")
@click.option("--host", help="Address to listen on.  [default: 127.0.0.1, or SUBLARR_HOST]")
@click.option("--port", type=click.IntRange(0, 65535), help="Port.  [default: 8767, or SUBLARR_PORT]")
@click.option(
    "--data-dir",
    type=click.Path(),
    help="Where the database and the API key live.  [default: SUBLARR_DATA_DIR]",
)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help=_CONFIG_HELP)
@click.option(
    "--no-workers",
    is_flag=True,
    help="Run the REST API and Socket.IO only; `sublarr worker` processes run the deliveries.",
)
@click.pass_context
def serve_command(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    data_dir: str | None,
    config_file: str | None,
    no_workers: bool,
) -> None:
    """Run the server: REST API, Socket.IO and the hook/webhook workers on one port."""
    from sublarr.core.db.engine import database_url_for, dispose_db, init_db
    from sublarr.core.web.api_auth import load_or_create_api_key
    from sublarr.core.web.server import banner, run_server

    settings = settings_with(
        ctx,
        SUBLARR_HOST=host,
        SUBLARR_PORT=port,
        SUBLARR_DATA_DIR=data_dir,
        SUBLARR_CONFIG_FILE=config_file,
    )
    use_settings(ctx, settings, default_log_level="info")
    check_bindable(settings.host, settings.port)
    if settings.message_queue:
        from sublarr.core.events.relay import require_redis_client

        require_redis_client(settings.message_queue)
    url = database_url_for(settings)
    init_db(url)  # created and migrated on first start, before any worker runs
    dispose_db()
    key = load_or_create_api_key(settings.data_dir, settings.api_key)
    shown_url = mask_value("SUBLARR_DATABASE_URL", url.render_as_string(hide_password=False))

    def on_ready(bound_host: str, bound_port: int) -> None:
        click.echo(banner(settings, bound_host, bound_port, key, shown_url, workers=not no_workers))

    status = run_server(settings, on_ready, workers=not no_workers)
    click.echo("sublarr stopped." if status == 0 else f"sublarr stopped with status {status}.")
    if status:
        sys.exit(status)


@click.group("config")
def config_group() -> None:
    """Inspect sublarr's configuration."""


@config_group.command("show")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help=_CONFIG_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def config_show_command(ctx: click.Context, config_file: str | None, as_json: bool) -> None:
    """Print the effective configuration (flags, environment, config file, defaults), secrets masked."""
    settings = use_settings(ctx, settings_with(ctx, SUBLARR_CONFIG_FILE=config_file))
    shown = effective_config(settings)
    if as_json:
        click.echo(json.dumps(shown, indent=2))
        return
    width = max(len(key) for key in shown)
    for key, value in shown.items():
        click.echo(f"{key:<{width}}  {'' if value is None else value}")


@config_group.command("keys")
@click.option("--markdown", is_flag=True, help="Print the Markdown table README.md holds.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def config_keys_command(markdown: bool, as_json: bool) -> None:
    """List every setting: key, accepted values, default and meaning."""
    if markdown:
        click.echo(settings_markdown())
    elif as_json:
        click.echo(json.dumps(settings_table(), indent=2))
    else:
        rows = [
            [r[name].replace("`", "") for name in ("key", "values", "default", "description")]
            for r in settings_table()
        ]
        click.echo(format_table(rows, ["key", "values", "default", "meaning"]))
