"""The `sublarr` command line, run as a user runs it."""

from __future__ import annotations

import json

from click.testing import CliRunner

from sublarr.core import EVENT_CATALOG, hookimpl
from sublarr.core.cli.main import build_cli

from conftest import run_sublarr


def test_events_prints_the_catalog():
    out = run_sublarr("events")
    assert out.returncode == 0, out.stderr
    assert "Event catalog v1: " in out.stdout
    for name in EVENT_CATALOG:
        assert name in out.stdout


def test_events_json_is_the_catalog():
    out = run_sublarr("events", "--json")
    data = json.loads(out.stdout)
    assert data["version"] == 1
    assert [e["name"] for e in data["events"]][:14] == list(EVENT_CATALOG)[:14]
    assert all("signal" not in e for e in data["events"])


def test_plugins_all_lists_builtins():
    out = run_sublarr("plugins", "--all", "--json")
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert rows["socketio_bridge"]["builtin"] is True
    assert rows["socketio_bridge"]["hooks"] == ["init_app", "on_event"]


def test_version():
    out = run_sublarr("--version")
    assert out.returncode == 0 and out.stdout.startswith("sublarr, version ")


def test_emit_fires_an_event(event_recorder):
    result = CliRunner().invoke(
        build_cli(), ["emit", "subtitle_downloaded", "title=Dark", "season=1", "language=de"]
    )
    assert result.exit_code == 0, result.output
    event = event_recorder.assert_emitted("subtitle_downloaded", title="Dark", season=1, language="de")
    assert result.output.strip() == event.event_id


def test_emit_with_json_data(event_recorder):
    result = CliRunner().invoke(build_cli(), ["emit", "batch_complete", "--data", '{"total": 4}'])
    assert result.exit_code == 0, result.output
    event_recorder.assert_emitted("batch_complete", total=4)


def test_emit_bad_input_gets_a_clear_error(event_recorder):
    runner = CliRunner()
    unknown = runner.invoke(build_cli(), ["emit", "no_such_event"])
    assert unknown.exit_code == 1 and "unknown event 'no_such_event'" in unknown.output
    secret = runner.invoke(build_cli(), ["emit", "batch_complete", "api_key=x"])
    assert secret.exit_code == 1 and "key 'api_key'" in secret.output
    absolute = runner.invoke(build_cli(), ["emit", "subtitle_downloaded", "relative_path=/tv/x.srt"])
    assert absolute.exit_code == 1 and "absolute filesystem paths" in absolute.output
    pair = runner.invoke(build_cli(), ["emit", "batch_complete", "total"])
    assert pair.exit_code == 2 and "is not KEY=VALUE" in pair.output
    data = runner.invoke(build_cli(), ["emit", "batch_complete", "--data", "[1]"])
    assert data.exit_code == 2 and "must be a JSON object" in data.output
    assert event_recorder.events == []


def test_plugins_add_commands(register_plugin):
    import click

    class Commands:
        @hookimpl
        def register_commands(self, cli):
            @cli.command("test-greet")
            def greet():
                click.echo("greetings")

    register_plugin(Commands(), name="commands")
    group = build_cli()
    try:
        result = CliRunner().invoke(group, ["test-greet"])
        assert result.output == "greetings\n"
    finally:
        group.commands.pop("test-greet", None)
