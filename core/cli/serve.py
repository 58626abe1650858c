"""``sublarr serve`` (the server) and ``sublarr config show`` (the effective configuration)."""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import sys
from typing import Any

import click

from sublarr.core.errors import SublarrError
from sublarr.core.settings import SECRET_KEYS, Settings, load_settings

logger = logging.getLogger(__name__)

_CONFIG_HELP = "A TOML file of settings (port = 8767, ...); also SUBLARR_CONFIG_FILE."


def _apply_options(**values: Any) -> Settings:
    """Command-line options win over the environment and the config file, for the whole process."""
    names = {
        "config_file": "SUBLARR_CONFIG_FILE",
        "host": "SUBLARR_HOST",
        "port": "SUBLARR_PORT",
        "data_dir": "SUBLARR_DATA_DIR",
    }
    for option, key in names.items():
        value = values.get(option)
        if value is not None:
            os.environ[key] = str(value)
    try:
        return load_settings()
    except SublarrError as exc:
        raise click.ClickException(str(exc)) from None


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
    if key == "SUBLARR_DATABASE_URL":
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
    return shown


@click.command("serve")
@click.option("--host", help="Address to listen on.  [default: 127.0.0.1, or SUBLARR_HOST]")
@click.option("--port", type=click.IntRange(0, 65535), help="Port.  [default: 8767, or SUBLARR_PORT]")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Where the database and the API key live.  [default: SUBLARR_DATA_DIR]",
)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help=_CONFIG_HELP)
def serve_command(host: str | None, port: int | None, data_dir: str | None, config_file: str | None) -> None:
    """Run the server: REST API, Socket.IO and the hook/webhook workers on one port."""
    from sublarr.core.db import dispose_db, init_db
    from sublarr.core.web.api_auth import load_or_create_api_key
    from sublarr.core.web.app_factory import database_url
    from sublarr.core.web.server import banner, run_server

    settings = _apply_options(host=host, port=port, data_dir=data_dir, config_file=config_file)
    check_bindable(settings.host, settings.port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    url = database_url(settings)
    try:
        init_db(url)  # created and migrated on first start, before any worker runs
        dispose_db()
        key = load_or_create_api_key(settings.data_dir, settings.api_key)
    except (SublarrError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    raw_url = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    shown_url = mask_value("SUBLARR_DATABASE_URL", raw_url)

    def on_ready(bound_host: str, bound_port: int) -> None:
        click.echo(banner(settings, bound_host, bound_port, key, shown_url))

    status = run_server(settings, on_ready)
    click.echo("sublarr stopped." if status == 0 else f"sublarr stopped with status {status}.")
    if status:
        sys.exit(status)


@click.group("config")
def config_group() -> None:
    """Inspect sublarr's configuration."""


@config_group.command("show")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help=_CONFIG_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def config_show_command(config_file: str | None, as_json: bool) -> None:
    """Print the effective configuration (file, environment, defaults), secrets masked."""
    settings = _apply_options(config_file=config_file)
    shown = effective_config(settings)
    if as_json:
        click.echo(json.dumps(shown, indent=2))
        return
    width = max(len(key) for key in shown)
    for key, value in shown.items():
        click.echo(f"{key:<{width}}  {'' if value is None else value}")
