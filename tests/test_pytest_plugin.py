"""sublarr's pytest plugin: a generated test file that uses each fixture passes."""

from __future__ import annotations

import pytest

USES_EVERY_FIXTURE = """
from sublarr.core import EVENT_CATALOG, emit_event, hookimpl


def test_plugin_manager_is_isolated_with_builtins(plugin_manager):
    assert plugin_manager.has_plugin("socketio_bridge")
    loaded = [r for r in plugin_manager.list_plugins() if r["status"] == "loaded"]
    assert loaded and all(r["builtin"] for r in loaded)  # other installed plugins: not enabled


def test_register_plugin_and_event_recorder(register_plugin, event_recorder):
    class Mine:
        @hookimpl
        def register_events(self, register):
            register("mine.done", "Done", "", ["n"])

    register_plugin(Mine(), name="mine")
    emit_event("mine.done", {"n": 1})
    event_recorder.assert_emitted("mine.done", n=1)
    event_recorder.assert_not_emitted("batch_complete")


def test_registered_plugin_is_gone_in_the_next_test(plugin_manager):
    assert not plugin_manager.has_plugin("mine")
    assert "mine.done" not in EVENT_CATALOG


def test_sublarr_app_and_socketio_client(sublarr_app, socketio_client):
    assert "sublarr" in sublarr_app.extensions
    emit_event("config_updated", {"section": "general"})
    assert socketio_client.get_received()[0]["name"] == "config_updated"


def test_api_client_sends_the_key(api_client, api_key):
    assert len(api_key) == 32
    assert api_client.get("/api/v1/plugins").status_code == 200


def test_sublarr_db_webhook_receiver_and_delivery_pool(sublarr_db, webhook_receiver, delivery_pool):
    from sublarr.core.delivery import add_webhook

    assert sublarr_db.startswith("sqlite:///")
    created = add_webhook("rx", "batch_complete", webhook_receiver.url, secret=None)
    webhook_receiver.secret = created["secret"]
    delivery_pool(SUBLARR_DELIVERY_POLL_INTERVAL="0.1")
    emit_event("batch_complete", {"total": 3})
    (request,) = webhook_receiver.wait_for(1)
    assert request.verified is True and request.json["data"]["total"] == 3


def test_sublarr_cli_runs_a_plugins_command(register_plugin, sublarr_cli):
    import click

    class Greeter:
        @hookimpl
        def register_commands(self, cli):
            @cli.command("greet")
            @click.argument("name")
            def greet(name):
                click.echo(f"hi {name}")

    register_plugin(Greeter(), name="greeter")
    result = sublarr_cli("greet", "Ada")
    assert result.exit_code == 0, result.output
    assert result.stdout == "hi Ada\\n"
    assert sublarr_cli("events", "--json").exit_code == 0


def test_the_command_is_gone_in_the_next_test(sublarr_cli):
    from sublarr.core.cli.main import cli

    result = sublarr_cli("greet", "Ada")
    assert result.exit_code == 2 and "No such command 'greet'" in result.stderr
    assert "greet" not in cli.commands and "greet" not in cli.plugin_commands
"""


def test_fixtures_work_in_a_generated_suite(pytester: pytest.Pytester):
    pytester.makepyfile(test_generated=USES_EVERY_FIXTURE)
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(passed=8)


def test_event_recorder_assertions_fail_loudly(pytester: pytest.Pytester):
    pytester.makepyfile(
        test_failing="""
from sublarr.core import emit_event

def test_wrong_payload(event_recorder):
    emit_event("batch_complete", {"total": 1})
    event_recorder.assert_emitted("batch_complete", total=2)
"""
    )
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no 'batch_complete' event with {'total': 2}*"])
