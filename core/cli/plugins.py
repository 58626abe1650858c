"""``sublarr plugins``: list plugins, check that every wanted plugin loaded, start a new one.

``sublarr plugins [--all] [--json] [--check]`` lists the installed plugins; ``--check`` exits
1 when a plugin failed to load or ``SUBLARR_LOAD_PLUGINS`` names one that is not installed,
and warns about plugin setting values that no loaded plugin declares (a typo?).
``sublarr plugins new NAME`` writes a plugin package to start from (``plugin_template``).

A load error is said once: the plugin manager logs it as the plugin loads (at ``error``,
shown at the default log level); only when the log level hides it does the command print it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from sublarr.core.cli.context import get_settings
from sublarr.core.cli.tables import format_table
from sublarr.core.plugin_manager import SublarrPluginManager, get_plugin_manager
from sublarr.core.plugin_manager import logger as plugin_manager_logger


def unlogged(lines: list[str]) -> list[str]:
    """``lines`` that the plugin manager's log did not already show on stderr."""
    return [] if plugin_manager_logger.isEnabledFor(logging.ERROR) else lines


def warn_about_load_problems(pm: SublarrPluginManager) -> None:
    """Tell stderr about plugins that failed to load, unless the log already did (``emit``)."""
    for line in unlogged([p for p in pm.load_problems() if "failed to load" in p]):
        click.echo(f"Warning: {line}", err=True)


@click.group("plugins", invoke_without_command=True)
@click.option("--all", "include_builtin", is_flag=True, help="Include the built-in plugins.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option(
    "--check",
    is_flag=True,
    help="Exit 1 when a plugin failed to load or SUBLARR_LOAD_PLUGINS names one not installed.",
)
@click.pass_context
def plugins_group(ctx: click.Context, include_builtin: bool, as_json: bool, check: bool) -> None:
    """List installed plugins: name, version, hooks, status and error count.

    'sublarr plugins new NAME' writes a new plugin package to start from.
    """
    if ctx.invoked_subcommand is not None:
        return
    pm = get_plugin_manager()
    rows = pm.list_plugins(include_builtin=include_builtin)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif not rows:
        click.echo("No third-party plugins installed (use --all to include built-ins).")
    else:
        table = [
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
        ]
        click.echo(
            format_table(table, ["name", "version", "distribution", "built-in", "status", "errors", "hooks"])
        )
        for line in unlogged([f"{r['name']}: {r['last_error']}" for r in rows if r["last_error"]]):
            click.echo(f"\n{line}", err=True)
    if check:
        for unused in pm.unused_plugin_values(get_settings(ctx)):
            click.echo(f"Warning: {unused} sets nothing: no loaded plugin declares it", err=True)
        problems = pm.load_problems()
        for line in problems:
            if "failed to load" not in line or unlogged([line]):
                click.echo(f"Error: {line}", err=True)
        if problems:
            ctx.exit(1)


@plugins_group.command("new")
@click.argument("name")
@click.option(
    "--directory",
    "-d",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to write the package folder.",
)
@click.option("--description", default="", help="One line saying what the plugin does.")
def new_command(name: str, directory: Path, description: str) -> None:
    """Write a ready plugin package: pyproject (entry point), one hook, a README and tests.

    NAME is the plugin's name ('backup'); the distribution is 'sublarr-NAME'.
    """
    from sublarr.core.cli.plugin_template import write_plugin

    written = write_plugin(name, directory, description)
    click.echo(f"Wrote {written} - next:")
    click.echo(f"  cd {written}")
    click.echo("  sublarr install -e .       # into sublarr's environment")
    click.echo("  python -m pytest            # its tests, with sublarr's fixtures")
    click.echo("  sublarr plugins             # lists it")
