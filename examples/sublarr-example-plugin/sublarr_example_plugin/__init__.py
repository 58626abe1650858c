"""An example sublarr plugin: one event, on_event, score_modifier and a CLI command."""

from __future__ import annotations

import logging

import click

from sublarr.core import emit_event, hookimpl

logger = logging.getLogger(__name__)

CELEBRATED = "example.subtitle_celebrated"
HEARING_IMPAIRED_PENALTY = -10


@hookimpl
def register_events(register):
    register(
        CELEBRATED,
        "Subtitle celebrated",
        "The example plugin noticed a downloaded subtitle.",
        ["title", "language"],
    )


@hookimpl
def on_event(event_name, payload):
    if event_name == "subtitle_downloaded":
        logger.info("celebrating %s", payload["title"])
        emit_event(CELEBRATED, {"title": payload["title"], "language": payload["language"]})


@hookimpl
def score_modifier(result, query):
    if getattr(result, "hearing_impaired", False):
        return HEARING_IMPAIRED_PENALTY
    return None


@hookimpl
def register_commands(cli):
    @cli.command("example-hello")
    @click.argument("name", default="world")
    def example_hello(name):
        """Say hello from the example plugin."""
        click.echo(f"Hello, {name}, from sublarr-example-plugin!")
