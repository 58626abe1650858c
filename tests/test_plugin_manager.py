"""Plugin discovery, isolation, load errors, allow/block lists and tracing."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import textwrap

import pytest

from sublarr.core import (
    EVENT_CATALOG,
    PluginLoadError,
    emit_event,
    get_plugin_manager,
    hookimpl,
    load_plugins,
)
from sublarr.core.plugin_manager import SublarrPluginManager
from sublarr.core.settings import load_settings
from sublarr.core.testing import set_plugin_manager


def test_builtins_are_registered_through_entry_points(plugin_manager):
    rows = {r["name"]: r for r in plugin_manager.list_plugins()}
    bridge = rows["socketio_bridge"]
    assert bridge["builtin"] is True
    assert bridge["distribution"] == "sublarr"
    assert bridge["status"] == "loaded"
    assert "on_event" in bridge["hooks"]
    assert plugin_manager.has_plugin("socketio_bridge")


def test_plugins_load_lazily_on_first_emit(event_recorder):
    set_plugin_manager(None)
    emit_event("config_updated", {"section": "x"})
    pm = get_plugin_manager()
    assert pm.has_plugin("socketio_bridge")
    assert load_plugins() is pm  # loads once


def test_a_raising_plugin_is_isolated_and_counted(register_plugin, event_recorder, caplog):
    class Broken:
        @hookimpl(tryfirst=True)
        def on_event(self, event_name):
            raise ValueError("plugin exploded")

    register_plugin(Broken(), name="broken")
    emit_event("batch_complete", {"total": 1})
    emit_event("batch_complete", {"total": 2})
    assert [e.payload["total"] for e in event_recorder.of("batch_complete")] == [1, 2]
    pm = get_plugin_manager()
    assert pm.error_counts["broken"] == 2
    row = next(r for r in pm.list_plugins() if r["name"] == "broken")
    assert row["errors"] == 2 and "plugin exploded" in row["last_error"]
    assert "plugin 'broken' failed in on_event" in caplog.text


def test_a_wrong_return_type_is_reported_and_ignored(register_plugin):
    class Wrong:
        @hookimpl
        def score_modifier(self, result, query):
            return "5"

    class WrongBool:
        @hookimpl
        def score_modifier(self, result, query):
            return True

    class Right:
        @hookimpl
        def score_modifier(self, result, query):
            return 7

    register_plugin(Wrong(), name="wrong")
    register_plugin(WrongBool(), name="wrongbool")
    register_plugin(Right(), name="right")
    pm = get_plugin_manager()
    assert pm.call_hook("score_modifier", result=None, query=None) == [("right", 7)]
    assert pm.error_counts["wrong"] == 1 and pm.error_counts["wrongbool"] == 1
    assert "expected int or None" in pm.last_errors["wrong"]


def test_an_unknown_hook_fails_at_load_naming_the_plugin(plugin_manager):
    class Typo:
        @hookimpl
        def on_evnet(self, event_name):
            pass

    message = "plugin 'typo' failed to load: implements unknown hook 'on_evnet'"
    with pytest.raises(PluginLoadError, match=message):
        plugin_manager.register(Typo(), name="typo")
    assert not plugin_manager.has_plugin("typo")


def test_an_unknown_argument_fails_at_load(plugin_manager):
    class BadArgs:
        @hookimpl
        def on_event(self, event_name, colour):
            pass

    with pytest.raises(PluginLoadError, match="badargs"):
        plugin_manager.register(BadArgs(), name="badargs")
    assert not plugin_manager.has_plugin("badargs")


def test_plugin_events_join_the_catalog_and_leave_with_the_plugin(register_plugin, event_recorder):
    class Events:
        @hookimpl
        def register_events(self, register):
            register("myplugin.thing_happened", "Thing happened", "A thing.", ["what"])

    plugin = register_plugin(Events(), name="myplugin")
    entry = EVENT_CATALOG["myplugin.thing_happened"]
    assert entry["source"] == "myplugin" and entry["payload_keys"] == ["what"]
    emit_event("myplugin.thing_happened", {"what": "it"})
    event_recorder.assert_emitted("myplugin.thing_happened", what="it")
    get_plugin_manager().unregister(plugin)
    assert "myplugin.thing_happened" not in EVENT_CATALOG


@pytest.mark.parametrize(
    ("name", "keys", "message"),
    [
        ("thing_happened", ["a"], "must be namespaced"),
        ("subtitle_downloaded", ["a"], "must be namespaced"),
        ("my.Thing", ["a"], "must be namespaced"),
        ("my.thing", ["api_key"], "looks like a credential"),
        ("my.thing", "what", "must be a list"),
        ("my.thing", ["bad key"], "invalid payload key"),
    ],
)
def test_bad_plugin_events_fail_the_plugin_load(plugin_manager, name, keys, message):
    class Events:
        @hookimpl
        def register_events(self, register):
            register(name, "Label", "Description", keys)

    with pytest.raises(PluginLoadError, match=message):
        plugin_manager.register(Events(), name="events")
    assert not plugin_manager.has_plugin("events")
    assert name not in EVENT_CATALOG or EVENT_CATALOG[name]["source"] == "sublarr"


def test_two_plugins_cannot_claim_the_same_event(register_plugin, plugin_manager):
    class One:
        @hookimpl
        def register_events(self, register):
            register("shared.event", "Shared", "", ["x"])

    register_plugin(One(), name="one")
    with pytest.raises(PluginLoadError, match="already registered by 'one'"):
        plugin_manager.register(One(), name="two")


def test_disable_plugins_blocks_a_builtin(monkeypatch):
    monkeypatch.setenv("SUBLARR_DISABLE_PLUGINS", "socketio_bridge")
    pm = load_plugins()
    assert not pm.has_plugin("socketio_bridge")
    row = next(r for r in pm.list_plugins() if r["name"] == "socketio_bridge")
    assert row["status"] == "disabled"
    emit_event("config_updated", {})  # core runs without the bridge


def test_load_plugins_applies_to_builtins_too(monkeypatch):
    monkeypatch.setenv("SUBLARR_LOAD_PLUGINS", "")
    pm = load_plugins()
    assert pm.list_name_plugin() == []
    statuses = {r["name"]: r["status"] for r in pm.list_plugins()}
    assert statuses["socketio_bridge"] == statuses["webhooks"] == "not enabled"
    emit_event("config_updated", {})  # core runs without any plugin

    set_plugin_manager(None)
    monkeypatch.setenv("SUBLARR_LOAD_PLUGINS", "sublarr")  # the distribution: every built-in
    names = {name for name, _ in load_plugins().list_name_plugin()}
    assert names == {
        "db_weights",
        "preferences",
        "provider_modifiers",
        "script_hooks",
        "socketio_bridge",
        "uploader_trust",
        "webhooks",
    }

    set_plugin_manager(None)
    monkeypatch.setenv("SUBLARR_LOAD_PLUGINS", "Socketio_Bridge")
    assert {name for name, _ in load_plugins().list_name_plugin()} == {"socketio_bridge"}


class Traced:
    @hookimpl
    def on_event(self, event_name):
        return None

    @hookimpl
    def score_modifier(self, result):
        if result.provider_name == "boom":
            raise RuntimeError("boom")
        return 4


def test_trace_logs_every_hook_call(monkeypatch, caplog):
    from sublarr.core import SubtitleResult, VideoQuery, compute_score

    monkeypatch.setenv("SUBLARR_TRACE_PLUGINS", "1")
    pm = SublarrPluginManager(load_settings())
    set_plugin_manager(pm)
    pm.register(Traced(), name="traced")
    query = VideoQuery(title="Film")
    with caplog.at_level(logging.INFO, logger="sublarr.core.plugin_manager"):
        emit_event("config_updated", {"section": "a"})
        assert compute_score(SubtitleResult("boom", "1", "en"), query) == 0
        assert compute_score(SubtitleResult("fine", "1", "en"), query) == 4
    lines = caplog.text.splitlines()
    assert any(
        re.search(r"hook traced\.on_event\(event_name\) -> None in \d+\.\d{3} ms", line) for line in lines
    )
    assert any(
        re.search(r"hook traced\.score_modifier\(result\) -> 4 in \d+\.\d{3} ms", line) for line in lines
    )
    assert "hook traced.score_modifier(result) raised RuntimeError('boom')" in caplog.text
    assert pm.error_counts["traced"] == 1  # traced calls stay isolated


def test_pluggy_tracing_and_monitoring_see_every_call():
    from sublarr.core import SubtitleResult, VideoQuery, compute_score

    pm = SublarrPluginManager(load_settings())
    set_plugin_manager(pm)
    assert pm.trace.root is not None  # pluggy's own tracer, not shadowed
    written: list[str] = []
    pm.trace.root.setwriter(written.append)
    undo_tracing = pm.enable_tracing()
    calls: list[tuple[str, list[str]]] = []
    results: list[object] = []
    undo_monitoring = pm.add_hookcall_monitoring(
        lambda hook_name, impls, kwargs: calls.append((hook_name, [i.plugin_name for i in impls])),
        lambda outcome, hook_name, impls, kwargs: results.append(outcome.get_result()),
    )
    pm.register(Traced(), name="traced")
    emit_event("config_updated", {"section": "a"})
    assert compute_score(SubtitleResult("fine", "1", "en"), VideoQuery(title="Film")) == 4
    assert ("on_event", ["traced"]) in calls and ("score_modifier", ["traced"]) in calls
    assert [4] in results
    assert any("score_modifier" in line for line in written)

    undo_monitoring()
    undo_monitoring()  # twice is harmless
    undo_tracing()
    calls.clear()
    written.clear()
    emit_event("config_updated", {"section": "b"})
    assert calls == [] and written == []


def test_monitored_calls_are_isolated_and_type_checked(register_plugin):
    class Wrong:
        @hookimpl
        def score_modifier(self, result, query):
            return "5"

    class Raises:
        @hookimpl
        def on_event(self, event_name):
            raise ValueError("nope")

    register_plugin(Wrong(), name="wrong")
    register_plugin(Raises(), name="raises")
    pm = get_plugin_manager()
    undo = pm.add_hookcall_monitoring(lambda *a: None, lambda *a: None)
    try:
        assert pm.call_hook("score_modifier", result=None, query=None) == []
        emit_event("config_updated", {})
    finally:
        undo()
    assert pm.error_counts["wrong"] == 1 and "expected int or None" in pm.last_errors["wrong"]
    assert pm.error_counts["raises"] == 1 and "ValueError('nope')" in pm.last_errors["raises"]


def test_each_plugin_gets_its_own_payload_copy(register_plugin, event_recorder):
    class Changes:
        @hookimpl(tryfirst=True)
        def on_event(self, payload):
            payload["title"] = "changed"

    register_plugin(Changes(), name="changes")
    emit_event("subtitle_downloaded", {"title": "Dark"})
    event_recorder.assert_emitted("subtitle_downloaded", title="Dark")


def test_hooks_taking_no_or_many_arguments_are_called(register_plugin):
    seen = []

    class Shapes:
        @hookimpl
        def provider_modifiers(self):
            seen.append("none")
            return {"p": 1}

        @hookimpl
        def on_event(self, timestamp, event_id, payload, event_name):
            seen.append((event_name, len(event_id), timestamp.endswith("+00:00"), payload["section"]))

    register_plugin(Shapes(), name="shapes")
    pm = get_plugin_manager()
    assert pm.call_hook("provider_modifiers")[-1] == ("shapes", {"p": 1})
    emit_event("config_updated", {"section": "s"})
    assert seen == ["none", ("config_updated", 32, True, "s")]


def test_core_runs_without_the_plugins_package():
    """Delete plugins/ and core still imports and runs (the bridge is reported as failed)."""
    code = textwrap.dedent(
        """
        import sys, importlib.abc
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name == "sublarr.plugins" or name.startswith("sublarr.plugins."):
                    raise ImportError("plugins/ deleted")
        sys.meta_path.insert(0, Block())
        from sublarr.core import emit_event, get_plugin_manager
        emit_event("config_updated", {"section": "x"})
        rows = {r["name"]: r for r in get_plugin_manager().list_plugins()}
        assert rows["socketio_bridge"]["status"] == "failed", rows
        assert not any(m.startswith("sublarr.plugins") for m in sys.modules)
        print("core-ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "core-ok" in out.stdout
    assert "plugin 'socketio_bridge' failed to load" in out.stderr


def test_importing_core_does_not_import_plugins():
    code = (
        "import sys, sublarr.core, sublarr.core.cli.main, sublarr.core.web;"
        "print([m for m in sys.modules if m.startswith('sublarr.plugins')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


def test_only_events_skips_other_events(register_plugin, event_recorder):
    from sublarr.core import only_events

    seen = []

    class Picky:
        @hookimpl
        @only_events("config_updated", "batch_complete")
        def on_event(self, event_name):
            seen.append(event_name)

    register_plugin(Picky(), name="picky")
    for name in ("subtitle_downloaded", "config_updated", "provider_failed", "batch_complete"):
        emit_event(name, {})
    assert seen == ["config_updated", "batch_complete"]
    assert len(event_recorder.events) == 4  # unfiltered plugins still see everything
    with pytest.raises(ValueError, match="one or more event names"):
        only_events()
