"""The package ``sublarr plugins new NAME`` writes: ready to install, test and publish.

``sublarr-NAME/`` holds a ``pyproject.toml`` (the ``sublarr.plugins`` entry point), the
module ``sublarr_NAME`` (a setting, an ``on_event`` hook and a command), a README and tests
that use sublarr's pytest fixtures. Generated as is, it installs and its tests pass.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

from sublarr.core.errors import SublarrError
from sublarr.core.version import __version__

PLUGIN_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
MAX_NAME = 50

PYPROJECT = """\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "$description"
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["sublarr>=$sublarr_version"]

[project.optional-dependencies]
test = ["pytest"]

# This table makes sublarr find the plugin: the name on the left is the plugin's name.
[project.entry-points."sublarr.plugins"]
$name = "$module"

[tool.setuptools]
packages = ["$module"]

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

MODULE = '''\
"""$description"""

from __future__ import annotations

import logging

import click

from sublarr.core import hookimpl, only_events, plugin_setting

logger = logging.getLogger(__name__)

PLUGIN = "$name"  # the entry-point name in pyproject.toml


@hookimpl
def register_settings(register):
    register("greeting", str, "Hello", "how `sublarr $name-hello` greets")


@hookimpl
@only_events("subtitle_downloaded")
def on_event(event_name, payload):
    logger.info("$name: %s subtitles for %s", payload["language"], payload["title"])


@hookimpl
def register_commands(cli):
    @cli.command("$name-hello")
    @click.argument("who", default="world")
    def hello(who):
        """Say hello from the $name plugin."""
        click.echo(f"{plugin_setting(PLUGIN, 'greeting')}, {who}!")
'''

TESTS = '''\
"""Tests of $dist, with the fixtures sublarr installs for pytest."""

from __future__ import annotations

import logging

import pytest

import $module
from sublarr.core import emit_event, plugin_settings


@pytest.fixture
def plugin(register_plugin):
    """The plugin registered (under its entry-point name) for one test."""
    return register_plugin($module, name=$module.PLUGIN)


def test_settings_have_their_defaults(plugin):
    assert plugin_settings("$name") == {"greeting": "Hello"}


def test_logs_downloaded_subtitles(plugin, event_recorder, caplog):
    with caplog.at_level(logging.INFO, logger="$module"):
        emit_event("subtitle_downloaded", {"title": "Dark", "language": "de"})
    event_recorder.assert_emitted("subtitle_downloaded", title="Dark")
    assert "$name: de subtitles for Dark" in caplog.text


def test_hello_command(plugin, sublarr_cli):
    result = sublarr_cli("$name-hello", "Ada")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Hello, Ada!\\n"


def test_hello_command_reads_the_setting_from_the_environment(plugin, sublarr_cli):
    result = sublarr_cli("$name-hello", env={"$env_greeting": "Hi"})
    assert result.stdout == "Hi, world!\\n"


def test_a_bad_setting_is_refused(plugin, sublarr_cli, tmp_path):
    config = tmp_path / "sublarr.toml"
    config.write_text("[plugins.$name]\\ngreting = 'typo'\\n")
    result = sublarr_cli("--config", str(config), "$name-hello")
    assert result.exit_code == 1
    assert "plugin '$name' setting 'greting': no such setting" in result.stderr
'''

README = """\
# $dist

$description

A plugin for [sublarr](https://pypi.org/project/sublarr/).

## Installation

Install it into the environment sublarr runs in:

```bash
sublarr install $dist
sublarr plugins          # lists "$name"
```

## Settings

| setting | default | meaning |
| --- | --- | --- |
| `greeting` | `Hello` | how `sublarr $name-hello` greets |

Set them in sublarr's config file

```toml
[plugins.$name]
greeting = "Good evening"
```

or as `$env_greeting=...` in the environment, or through sublarr's REST API
(`PUT /api/v1/plugins/$name/settings`).

## Usage

```bash
sublarr $name-hello Ada
```

## Development

```bash
sublarr install -e '.[test]'   # into sublarr's environment, editable
python -m pytest
```

## Publishing

```bash
python -m pip install build twine
python -m build                # dist/*.whl and dist/*.tar.gz
python -m twine upload dist/*
```
"""

GITIGNORE = """\
__pycache__/
*.egg-info/
build/
dist/
"""


def names_for(name: str) -> dict[str, str]:
    """The names a plugin called ``name`` gets: entry point, distribution, module, env variable prefix."""
    if len(name) > MAX_NAME or not PLUGIN_NAME.match(name):
        raise SublarrError(
            f"plugin name {name!r}: use lower-case letters and digits, words joined by - or _ "
            f"(like 'backup' or 'release-groups'), at most {MAX_NAME} characters"
        )
    if name.startswith("sublarr"):
        raise SublarrError(f"plugin name {name!r}: leave out 'sublarr' (the package is called sublarr-NAME)")
    module = "sublarr_" + name.replace("-", "_")
    upper = name.upper().replace("-", "_")
    return {
        "name": name,
        "dist": "sublarr-" + name,
        "module": module,
        "env_greeting": f"SUBLARR_PLUGIN_{upper}_GREETING",
    }


def write_plugin(name: str, directory: Path, description: str = "") -> Path:
    """Write the package for plugin ``name`` into ``directory/sublarr-NAME``; return that folder.

    Raises ``SublarrError`` for a bad name or when the folder exists (nothing is written then).
    """
    names = names_for(name)
    root = Path(directory) / names["dist"]
    if root.exists():
        raise SublarrError(f"{root} already exists; nothing written")
    values = {
        **names,
        "description": (description or f"A sublarr plugin: {name}").replace('"', "'").strip(),
        "sublarr_version": __version__,
    }
    files = {
        "pyproject.toml": PYPROJECT,
        "README.md": README,
        ".gitignore": GITIGNORE,
        f"{names['module']}/__init__.py": MODULE,
        f"tests/test_{names['module']}.py": TESTS,
    }
    for relative, template in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(template).substitute(values), encoding="utf-8")
    return root
