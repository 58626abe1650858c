"""PLUGINS.md stays true: every hookspec is documented with its exact signature and a runnable example."""

from __future__ import annotations

import inspect
import re
import types

import pytest
from flask import Flask

from sublarr.core import EVENT_CATALOG, SubtitleResult, VideoQuery, compute_score, emit_event, hookspecs

from conftest import REPO_ROOT

PLUGINS_MD = (REPO_ROOT / "PLUGINS.md").read_text()
REFERENCE = PLUGINS_MD.split("## Hook reference", 1)[1].split("\n## ", 1)[0]


def _specs() -> dict[str, str]:
    specs = {}
    for name, func in inspect.getmembers(hookspecs, inspect.isfunction):
        if hasattr(func, "sublarr_spec"):
            params = ", ".join(inspect.signature(func).parameters)
            specs[name] = f"{name}({params})"
    return specs


def _sections() -> dict[str, tuple[str, str]]:
    found = {}
    for heading, body in re.findall(r"^### (.+?)\n(.*?)(?=^### |\Z)", REFERENCE, re.S | re.M):
        name = heading.split("(", 1)[0]
        found[name] = (heading.strip(), body)
    return found


def test_every_hookspec_is_documented_with_its_signature():
    specs, sections = _specs(), _sections()
    assert len(specs) >= 8
    assert set(specs) == set(sections), "PLUGINS.md hook reference and hookspecs.py differ"
    for name, signature in specs.items():
        documented = sections[name][0]
        assert documented == signature, f"PLUGINS.md documents {documented}, spec is {signature}"


@pytest.mark.parametrize("hook", sorted(_specs()))
def test_each_hookspec_docstring_says_when_what_and_what_back(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert "Called" in doc, f"{hook}: the docstring does not say when it is called"
    assert "Return" in doc, f"{hook}: the docstring does not say what to return"
    for name in inspect.signature(getattr(hookspecs, hook)).parameters:
        assert f"``{name}" in doc, f"{hook}: the docstring does not describe {name!r}"


@pytest.mark.parametrize("hook", sorted(_specs()))
def test_each_hook_has_a_runnable_example(hook, plugin_manager):
    _, body = _sections()[hook]
    blocks = re.findall(r"```python\n(.*?)```", body, re.S)
    assert blocks, f"no python example for {hook}"
    module = types.ModuleType(f"example_{hook}")
    exec(compile(blocks[0], f"PLUGINS.md:{hook}", "exec"), module.__dict__)
    plugin_manager.register(module, name=f"example_{hook}")
    assert hook in plugin_manager.hooks_of(module)


def test_examples_behave_as_documented(plugin_manager, caplog):
    sections = _sections()

    def load(hook):
        module = types.ModuleType(f"doc_{hook}")
        exec(re.findall(r"```python\n(.*?)```", sections[hook][1], re.S)[0], module.__dict__)
        plugin_manager.register(module, name=f"doc_{hook}")
        return module

    load("register_events")
    assert EVENT_CATALOG["backup.finished"]["payload_keys"] == ["file_count", "relative_path"]
    emit_event("backup.finished", {"file_count": 812, "relative_path": "backups/2026-11-27.zip"})

    load("on_event")
    emit_event("translation_failed", {"title": "Dark", "error": "quota"})
    assert "translation_failed for Dark" in caplog.text

    load("init_app")
    app = Flask("host")
    plugin_manager.call_hook("init_app", app=app, socketio=None)
    assert app.test_client().get("/backup/status").get_json() == {"ok": True}

    episode = VideoQuery(series_title="Dark", season=1, episode=1)
    load("weight_keys")
    trusted = SubtitleResult("opensubtitles", "1", "en", matches={"uploader_trusted"})
    assert compute_score(trusted, episode) == 25
    load("scoring_weights")
    assert compute_score(SubtitleResult("x", "1", "en", matches={"release_group"}), episode) == 40
    load("provider_modifiers")
    podnapisi = SubtitleResult("podnapisi", "1", "en", matches={"hash"})
    assert compute_score(podnapisi, episode) == 359 + 15
    assert podnapisi.score_breakdown["provider:podnapisi"] == 15
    load("score_modifier")
    brazilian = SubtitleResult("x", "pt-BR-1", "pt", matches={"hash"})
    assert compute_score(brazilian, episode) == 359 - 30
    assert brazilian.score_breakdown["plugin:doc_score_modifier"] == -30
    assert plugin_manager.error_counts == {}


def test_the_tracing_example_runs(plugin_manager, capsys):
    section = PLUGINS_MD.split("## Listing and tracing", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, re.S)
    exec(
        compile(block.replace("undo()", "emit_event('config_updated', {})\nundo()"), "PLUGINS.md", "exec"),
        {"emit_event": emit_event},
    )
    assert "on_event" in capsys.readouterr().out


# -- README.md's settings table is generated from sublarr.core.settings.SETTINGS -------------------------


def test_readme_settings_table_is_the_settings_table():
    from sublarr.core.settings import TABLE_END, TABLE_START, with_settings_table

    readme = (REPO_ROOT / "README.md").read_text()
    assert readme.count(TABLE_START) == 1 and readme.count(TABLE_END) == 1
    assert with_settings_table(readme) == readme, "README.md's settings table is stale: run `make docs`"


def test_every_setting_the_readme_names_exists():
    from sublarr.core.settings import KNOWN_KEYS

    readme = (REPO_ROOT / "README.md").read_text()
    named = set(re.findall(r"`(SUBLARR_[A-Z_]+)`", readme)) - {"SUBLARR_TITLE", "SUBLARR_EVENT"}
    assert named <= KNOWN_KEYS, named - KNOWN_KEYS


def test_settings_quoted_in_plugins_md_have_the_real_defaults():
    from sublarr.core.settings import KNOWN_KEYS, settings_table

    defaults = {row["key"]: row["default"] for row in settings_table()}
    rows = re.findall(r"^\| `(SUBLARR_[A-Z_]+)` \|.*\| (`[^|]*`) \|$", PLUGINS_MD, re.M)
    assert len(rows) >= 5
    for key, default in rows:
        assert key in KNOWN_KEYS, key
        assert default == defaults[key], f"PLUGINS.md says {key} defaults to {default}, it is {defaults[key]}"
