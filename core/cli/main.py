"""The ``sublarr`` command line: the root group, its global options and its one error handler.

``sublarr [--config FILE] [--data-dir DIR] [--log-level LEVEL] COMMAND ...``: the root
makes the invocation's one ``Settings`` (flags > environment > config file > defaults,
``sublarr.core.cli.context``), puts it in force, logs at its level and loads the plugins it
allows; plugins add commands with ``register_commands``.

Commands that read or write sublarr's data (``STORAGE_COMMANDS``) open the configured
database first: when it cannot be used they end with ``Error: ...`` and exit status 1,
before doing anything. Every error a command lets through - a ``SublarrError``, a database
error, an ``OSError`` - is printed the same way, never as a traceback (``--log-level
debug`` logs the traceback too).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

import click

from sublarr.core import __version__
from sublarr.core.cli import scoring as scoring_cli
from sublarr.core.cli.context import get_settings, use_settings
from sublarr.core.cli.db import db_group
from sublarr.core.cli.deliveries import deliveries_group
from sublarr.core.cli.hooks import hooks_group, logs_command, webhooks_group
from sublarr.core.cli.install import install_command, uninstall_command
from sublarr.core.cli.notifications import notifications_group
from sublarr.core.cli.plugins import plugins_group, warn_about_load_problems
from sublarr.core.cli.serve import config_group, serve_command
from sublarr.core.cli.tables import format_table
from sublarr.core.cli.worker import worker_command
from sublarr.core.errors import SublarrError
from sublarr.core.events.catalog import describe_catalog
from sublarr.core.events.emit import emit_event
from sublarr.core.plugin_manager import get_plugin_manager, load_plugins
from sublarr.core.settings import LOG_LEVELS
from sublarr.core.settings.log_format import escape_control

logger = logging.getLogger(__name__)

# Commands that need the configured database; it is opened before they run.
STORAGE_COMMANDS = frozenset(
    {
        "score",
        "weights",
        "providers",
        "preferences",
        "hooks",
        "webhooks",
        "logs",
        "emit",
        "notifications",
        "deliveries",
    }  # fmt: skip
)
# Commands that take settings flags of their own and set up the invocation themselves, or
# (install, uninstall: pip) need neither settings nor plugins - a broken plugin cannot stop them.
OWN_SETTINGS_COMMANDS = frozenset({"serve", "config", "worker", "install", "uninstall"})
_REST_KEY = "sublarr.rest_args"


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def error_message(exc: BaseException) -> str:
    """What the user is told about ``exc``: one line (control characters escaped), no traceback."""
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    if isinstance(exc, SublarrError):
        return escape_control(str(exc))
    if isinstance(exc, SQLAlchemyError):
        # SQLAlchemy appends the statement and a link on lines of their own.
        detail = str(exc.orig) if isinstance(exc, DBAPIError) else str(exc)
        return "database error: " + escape_control(detail.strip().split("\n", 1)[0])
    if isinstance(exc, OSError):
        text = exc.strerror or str(exc)
        return escape_control(text if exc.filename is None else f"{exc.filename}: {text}")
    return f"unexpected {type(exc).__name__}: {escape_control(str(exc))} (--log-level debug shows where)"


class RootGroup(click.Group):
    """The ``sublarr`` group: plugin commands, global settings and one error handler.

    Plugin commands are kept apart from the built-in ones, per plugin manager: when the
    current plugin manager changes, the previous one's commands are gone.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._commands_from: object | None = None
        self._pinned = False
        self.plugin_commands: dict[str, click.Command] = {}

    def add_plugin_commands(self, pm: Any, pin: bool = False) -> bool:
        """Take ``pm``'s plugins' commands (replacing another manager's); True if it ran now.

        ``pin``: keep these whichever plugin manager is current later (``build_cli(pm)``).
        """
        if self._commands_from is pm or (self._pinned and not pin):
            return False
        collector = click.Group(self.name, commands=dict(self.commands))
        pm.call_hook("register_commands", cli=collector)
        added = {n: c for n, c in collector.commands.items() if self.commands.get(n) is not c}
        for name in sorted(set(added) & set(self.commands)):
            logger.warning("a plugin's command %r is ignored: a built-in command has that name", name)
            del added[name]
        self.plugin_commands = added
        self._commands_from, self._pinned = pm, pin
        return True

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            self.add_plugin_commands(load_plugins(get_settings(ctx)))
            command = self.plugin_commands.get(cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        try:
            self.add_plugin_commands(load_plugins(get_settings(ctx)))
        except SublarrError as exc:  # help still lists the built-in commands
            logger.warning("plugin commands not listed: %s", exc)
        return sorted({*super().list_commands(ctx), *self.plugin_commands})

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        ctx.meta[_REST_KEY] = (command, list(rest))
        return name, command, rest

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:  # `sublarr ... | head`: the reader is gone, nothing to say
            _silence_stdout()
            raise click.exceptions.Exit(1) from None
        except Exception as exc:  # every error becomes one line, never a traceback
            logger.debug("%s failed", ctx.invoked_subcommand or "sublarr", exc_info=exc)
            raise click.ClickException(error_message(exc)) from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (a test runner's buffer)
        pass


def _asks_for_help(ctx: click.Context) -> bool:
    command, rest = ctx.meta.get(_REST_KEY, (None, []))
    if isinstance(command, click.Group) and not rest:
        return True
    return any(arg in ctx.help_option_names for arg in rest)


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sublarr")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="A TOML file of settings.  [default: SUBLARR_CONFIG_FILE, else ~/.config/sublarr/sublarr.toml]",
)
@click.option(
    "--data-dir",
    type=click.Path(),
    help="Where the database, the API key and the hooks live.  [default: SUBLARR_DATA_DIR]",
)
@click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    help="What to log to stderr.  [default: SUBLARR_LOG_LEVEL, else warning; info for serve]",
)
@click.pass_context
def cli(ctx: click.Context, config_file: str | None, data_dir: str | None, log_level: str | None) -> None:
    """sublarr: events, hooks and custom scoring for Sonarr/Radarr subtitles."""
    if ctx.invoked_subcommand in OWN_SETTINGS_COMMANDS:
        return
    settings = use_settings(ctx, get_settings(ctx))
    if ctx.invoked_subcommand in STORAGE_COMMANDS and not _asks_for_help(ctx):
        from sublarr.core.db.engine import database_url_for, init_db

        init_db(database_url_for(settings))


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


# Plugins: `sublarr plugins [--check]`, `sublarr plugins new NAME`, `sublarr install/uninstall NAME...`.
cli.add_command(plugins_group)
cli.add_command(install_command)
cli.add_command(uninstall_command)


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
    warn_about_load_problems(get_plugin_manager())
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
# Delivery workers without HTTP: `sublarr worker`.
cli.add_command(worker_command)

# Deliveries: `sublarr hooks ...`, `sublarr webhooks ...`, `sublarr logs`.
cli.add_command(hooks_group)
cli.add_command(webhooks_group)
cli.add_command(logs_command)

# Notifications through Apprise: `sublarr notifications ...`.
cli.add_command(notifications_group)
# Sending deliveries again: `sublarr deliveries resend|recover`.
cli.add_command(deliveries_group)


def build_cli(pm: Any = None) -> RootGroup:
    """A new ``sublarr`` root group: the built-in commands plus those of ``pm``'s plugins
    (default: the current plugin manager's). Nothing module-level changes: tests build one each."""
    group = RootGroup(
        name=cli.name,
        commands=dict(cli.commands),
        callback=cli.callback,
        params=list(cli.params),
        help=cli.help,
        context_settings=dict(cli.context_settings),
    )
    group.add_plugin_commands(pm if pm is not None else get_plugin_manager(), pin=True)
    return group


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (also ``python -m sublarr``)."""
    cli.main(args=argv, prog_name="sublarr")
