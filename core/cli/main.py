"""The ``sublarr`` command line: a click group that plugins extend with ``register_commands``."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from sublarr.core import __version__
from sublarr.core.cli import scoring as scoring_cli
from sublarr.core.cli.db import db_group
from sublarr.core.cli.hooks import hooks_group, logs_command, webhooks_group
from sublarr.core.cli.serve import config_group, serve_command
from sublarr.core.cli.tables import format_table
from sublarr.core.errors import SublarrError
from sublarr.core.events.catalog import describe_catalog
from sublarr.core.events.emit import emit_event
from sublarr.core.plugin_manager import get_plugin_manager


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sublarr")
def cli() -> None:
    """sublarr: events, hooks and custom scoring for Sonarr/Radarr subtitles."""


# Scoring: `sublarr score`, `sublarr weights ...`, `sublarr providers ...`.
for _command in scoring_cli.COMMANDS:
    cli.add_command(_command)


@cli.command("events")
@click.option("--json", "as_json", is_flag=True, help="Print the catalog as JSON.")
def events_command(as_json: bool) -> None:
    """List the event catalog: built-in events and those plugins add."""
    get_plugin_manager()
    catalog = describe_catalog()
    if as_json:
        click.echo(json.dumps(catalog, indent=2))
        return
    click.echo(f"Event catalog v{catalog['version']}: {len(catalog['events'])} events\n")
    rows = [[e["name"], e["label"], e["source"], ", ".join(e["payload_keys"])] for e in catalog["events"]]
    click.echo(format_table(rows, ["name", "label", "source", "payload keys"]))


@cli.command("plugins")
@click.option("--all", "include_builtin", is_flag=True, help="Include the built-in plugins.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def plugins_command(include_builtin: bool, as_json: bool) -> None:
    """List installed plugins: name, version, hooks, status and error count."""
    rows = get_plugin_manager().list_plugins(include_builtin=include_builtin)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No third-party plugins installed (use --all to include built-ins).")
        return
    click.echo(
        format_table(
            [
                [
                    r["name"],
                    r["version"] or "-",
                    r["distribution"] or "-",
                    "yes" if r["builtin"] else "no",
                    r["status"],
                    str(r["errors"]),
                    ", ".join(r["hooks"]) or "-",
                ]
                for r in rows
            ],
            ["name", "version", "distribution", "built-in", "status", "errors", "hooks"],
        )
    )
    for r in rows:
        if r["last_error"]:
            click.echo(f"\n{r['name']}: {r['last_error']}", err=True)


@cli.command("emit")
@click.argument("name")
@click.argument("pairs", nargs=-1, metavar="[KEY=VALUE]...")
@click.option("--data", "data_json", help="The whole payload as a JSON object.")
def emit_command(name: str, pairs: tuple[str, ...], data_json: str | None) -> None:
    """Fire event NAME with a payload given as KEY=VALUE pairs (values parsed as JSON)."""
    data: dict[str, Any] = {}
    if data_json:
        try:
            data = json.loads(data_json)
        except ValueError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--data") from None
        if not isinstance(data, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--data")
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="KEY=VALUE")
        data[key] = _parse_value(value)
    try:
        event_id = emit_event(name, data)
    except SublarrError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(event_id)


# Storage: `sublarr db upgrade`, `sublarr db current`.
cli.add_command(db_group)
# The server: `sublarr serve`, `sublarr config show`.
cli.add_command(serve_command)
cli.add_command(config_group)

# Deliveries: `sublarr hooks ...`, `sublarr webhooks ...`, `sublarr logs`.
cli.add_command(hooks_group)
cli.add_command(webhooks_group)
cli.add_command(logs_command)


def build_cli() -> click.Group:
    """The root command with every plugin's commands added."""
    pm = get_plugin_manager()
    pm.call_hook("register_commands", cli=cli)
    return cli


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        group = build_cli()
    except SublarrError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    group.main(args=argv, prog_name="sublarr")
