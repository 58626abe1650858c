"""An example sublarr plugin: one event, on_event, score_modifier, settings and a CLI command."""

from __future__ import annotations

import logging

import click

from sublarr.core import emit_event, hookimpl, plugin_setting

logger = logging.getLogger(__name__)

PLUGIN = "example"  # the entry-point name in pyproject.toml
CELEBRATED = "example.subtitle_celebrated"


@hookimpl
def register_events(register):
    register(
        CELEBRATED,
        "Subtitle celebrated",
        "The example plugin noticed a downloaded subtitle.",
        ["title", "language"],
    )


@hookimpl
def register_settings(register):
    register("greeting", str, "Hello", "how example-hello greets")
    register("hearing_impaired_penalty", int, -10, "added to the score of hearing-impaired subtitles")
    register("api_token", str, None, "a token for a service (shown masked)", secret=True)


@hookimpl
def on_event(event_name, payload):
    if event_name == "subtitle_downloaded":
        logger.info("celebrating %s", payload["title"])
        emit_event(CELEBRATED, {"title": payload["title"], "language": payload["language"]})


@hookimpl
def score_modifier(result, query):
    if getattr(result, "hearing_impaired", False):
        return plugin_setting(PLUGIN, "hearing_impaired_penalty")
    return None


@hookimpl
def register_commands(cli):
    @cli.command("example-hello")
    @click.argument("name", default="world")
    def example_hello(name):
        """Say hello from the example plugin."""
        greeting = plugin_setting(PLUGIN, "greeting")
        click.echo(f"{greeting}, {name}, from sublarr-example-plugin!")
