"""A real third-party distribution, built and pip-installed, found through its entry point."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from sublarr.core import EVENT_CATALOG, emit_event, hookimpl
from sublarr.core.plugin_manager import SublarrPluginManager
from sublarr.core.settings import load_settings
from sublarr.core.testing import set_plugin_manager

from conftest import REPO_ROOT, pip_install_target, run_sublarr

EXAMPLE = REPO_ROOT / "examples" / "sublarr-example-plugin"


@pytest.fixture(scope="session")
def example_site(tmp_path_factory) -> Path:
    """The example plugin pip-installed (built from source) into its own site directory."""
    target = tmp_path_factory.mktemp("example-site")
    build = tmp_path_factory.mktemp("example-build")
    pip_install_target(EXAMPLE, target, cwd=build)
    assert list(target.glob("sublarr_example_plugin-*.dist-info"))
    return target


@pytest.fixture
def with_example(example_site, monkeypatch):
    """Put the installed example on sys.path for this test (and for subprocesses)."""
    monkeypatch.syspath_prepend(str(example_site))
    importlib.invalidate_caches()
    yield {"PYTHONPATH": str(example_site)}
    sys.modules.pop("sublarr_example_plugin", None)


def test_discovered_and_listed_by_the_cli(with_example):
    out = run_sublarr("plugins", "--json", env=with_example)
    assert out.returncode == 0, out.stderr
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert "socketio_bridge" not in rows  # built-ins only with --all
    example = rows["example"]
    assert example["distribution"] == "sublarr-example-plugin"
    assert example["version"] == "0.2.0"
    assert example["builtin"] is False and example["status"] == "loaded"
    assert example["hooks"] == ["on_event", "register_commands", "register_events", "score_modifier"]

    table = run_sublarr("plugins", "--all", env=with_example).stdout
    assert "socketio_bridge" in table and "example" in table and "sublarr-example-plugin" in table


def _statuses(env: dict[str, str]) -> dict[str, str]:
    out = run_sublarr("plugins", "--all", "--json", env=env)
    assert out.returncode == 0, out.stderr
    return {r["name"]: r["status"] for r in json.loads(out.stdout)}


BUILTINS = {
    "db_weights",
    "preferences",
    "provider_modifiers",
    "script_hooks",
    "socketio_bridge",
    "uploader_trust",
    "webhooks",
}


def test_blockable_and_restrictable(with_example):
    """SUBLARR_LOAD_PLUGINS and SUBLARR_DISABLE_PLUGINS apply to built-in and third-party alike."""
    assert _statuses({**with_example, "SUBLARR_DISABLE_PLUGINS": "example"})["example"] == "disabled"

    builtins_only = _statuses({**with_example, "SUBLARR_LOAD_PLUGINS": "sublarr"})
    assert builtins_only == {"example": "not enabled", **dict.fromkeys(BUILTINS, "loaded")}

    chosen = _statuses({**with_example, "SUBLARR_LOAD_PLUGINS": "example,socketio_bridge"})
    assert chosen["example"] == chosen["socketio_bridge"] == "loaded"
    assert {chosen[name] for name in BUILTINS - {"socketio_bridge"}} == {"not enabled"}

    by_distribution = _statuses({**with_example, "SUBLARR_LOAD_PLUGINS": "sublarr-example-plugin"})
    assert by_distribution["example"] == "loaded" and by_distribution["webhooks"] == "not enabled"

    nothing = _statuses({**with_example, "SUBLARR_LOAD_PLUGINS": ""})
    assert set(nothing.values()) == {"not enabled"} and set(nothing) == BUILTINS | {"example"}

    no_builtins = _statuses({**with_example, "SUBLARR_DISABLE_PLUGINS": "sublarr"})
    assert no_builtins == {"example": "loaded", **dict.fromkeys(BUILTINS, "disabled")}


@pytest.fixture
def plugin_settings_in_env(monkeypatch):
    """The shell running the tests asks for other plugins (set before ``plugin_manager``)."""
    monkeypatch.setenv("SUBLARR_LOAD_PLUGINS", "example,socketio_bridge")
    monkeypatch.setenv("SUBLARR_DISABLE_PLUGINS", "socketio_bridge")


def test_the_plugin_manager_fixture_loads_exactly_the_builtins(
    with_example, plugin_settings_in_env, plugin_manager
):
    assert {name for name, _ in plugin_manager.list_name_plugin()} == BUILTINS
    statuses = {r["name"]: r["status"] for r in plugin_manager.list_plugins()}
    assert statuses == {"example": "not enabled", **dict.fromkeys(BUILTINS, "loaded")}


def test_its_event_command_and_modifier_work(with_example):
    events = run_sublarr("events", env=with_example).stdout
    assert "example.subtitle_celebrated" in events
    hello = run_sublarr("example-hello", "Ada", env=with_example)
    assert hello.stdout.strip() == "Hello, Ada, from sublarr-example-plugin!"

    pm = SublarrPluginManager(load_settings())
    set_plugin_manager(pm)
    pm.load_entry_points()
    assert pm.has_plugin("example")
    assert EVENT_CATALOG["example.subtitle_celebrated"]["source"] == "example"

    seen = []

    class Recorder:
        @hookimpl
        def on_event(self, event_name, payload):
            seen.append((event_name, payload))

    pm.register(Recorder(), name="recorder")
    emit_event("subtitle_downloaded", {"title": "Dark", "language": "de"})
    assert ("example.subtitle_celebrated", {"title": "Dark", "language": "de"}) in seen

    hi = SimpleNamespace(hearing_impaired=True)
    assert dict(pm.call_hook("score_modifier", result=hi, query=None))["example"] == -10
    plain = SimpleNamespace(hearing_impaired=False)
    assert "example" not in dict(pm.call_hook("score_modifier", result=plain, query=None))
