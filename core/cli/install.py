"""``sublarr install`` / ``sublarr uninstall``: pip, run in the environment sublarr runs in.

``sublarr install NAME...`` is ``python -m pip install NAME...`` with the interpreter of this
``sublarr`` (``sys.executable``), so a plugin lands where sublarr finds it, however sublarr
was installed (pipx, a venv, a container). Every pip option passes through (``-U``, ``-e
PATH``, ``--pre``, ``--no-index --find-links DIR``...). Afterwards a fresh ``sublarr
plugins`` lists what loaded (a fresh process: an editable install is only seen by one).
"""

from __future__ import annotations

import subprocess
import sys

import click

from sublarr.core.cli.context import root_overrides
from sublarr.core.plugin_manager import BUILTIN_DISTRIBUTION

_PASS_THROUGH = {"ignore_unknown_options": True, "help_option_names": ["-h", "--help"]}
_ROOT_FLAGS = {
    "SUBLARR_CONFIG_FILE": "--config",
    "SUBLARR_DATA_DIR": "--data-dir",
    "SUBLARR_LOG_LEVEL": "--log-level",
}


def run_pip(*args: str) -> int:
    """Run ``python -m pip ARGS`` with sublarr's interpreter, output to the terminal; its exit status."""
    return subprocess.run([sys.executable, "-m", "pip", *args], check=False).returncode


def _list_plugins(ctx: click.Context) -> int:
    flags = [part for key, value in root_overrides(ctx).items() for part in (_ROOT_FLAGS[key], str(value))]
    command = [sys.executable, "-m", "sublarr", *flags, "plugins", "--check"]
    return subprocess.run(command, check=False).returncode


@click.command("install", context_settings=_PASS_THROUGH)
@click.argument("pip_args", nargs=-1, required=True, type=click.UNPROCESSED, metavar="[PIP OPTIONS] NAME...")
@click.pass_context
def install_command(ctx: click.Context, pip_args: tuple[str, ...]) -> None:
    """Install plugins (pip packages) into the environment sublarr runs in, then list what loaded.

    Any pip option works: 'sublarr install -U sublarr-backup', 'sublarr install -e .',
    'sublarr install --no-index --find-links ./dist sublarr-backup'.
    """
    status = run_pip("install", *pip_args)
    if status:
        raise click.ClickException(f"pip install failed (exit status {status}); nothing else was done")
    click.echo("")
    ctx.exit(_list_plugins(ctx))


@click.command("uninstall", context_settings=_PASS_THROUGH)
@click.argument("pip_args", nargs=-1, required=True, type=click.UNPROCESSED, metavar="[PIP OPTIONS] NAME...")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def uninstall_command(ctx: click.Context, pip_args: tuple[str, ...], yes: bool) -> None:
    """Uninstall plugins (pip packages) from the environment sublarr runs in, then list what is left."""
    names = {arg.lower().replace("_", "-") for arg in pip_args if not arg.startswith("-")}
    if BUILTIN_DISTRIBUTION in names:
        raise click.ClickException("refusing to uninstall sublarr itself; use pip for that")
    status = run_pip("uninstall", *(["-y"] if yes else []), *pip_args)
    if status:
        raise click.ClickException(f"pip uninstall failed (exit status {status})")
    click.echo("")
    ctx.exit(_list_plugins(ctx))
