"""``sublarr notifications``: notification targets sent through Apprise.

::

    sublarr notifications add NAME URL [--event EVENT]... [--title TEMPLATE] [--body TEMPLATE]
                              [--filter 'FIELD OP VALUE']... [--retries 3] [--timeout 10]
    sublarr notifications list [--json]          # URLs masked
    sublarr notifications update ID [--url URL] [--event EVENT]... [--title T] [--body B]
                                    [--filter ...]... [--no-filters] [--enable | --disable]
    sublarr notifications test ID
    sublarr notifications remove ID

URL is an Apprise URL (``discord://webhook_id/token``, ``tgram://bottoken/chat_id``,
``ntfys://ntfy.sh/topic``, ``json://host:port/path``...). A ``--filter`` is
``FIELD OP VALUE`` with OP one of ``== != < <= > >= in "not in" contains`` and VALUE JSON
(``'language in ["de","en"]'``, ``'score >= 300'``) or plain text (``'media_type == episode'``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import click

from sublarr.core.cli.hooks import TargetCommands, print_rows, target_group
from sublarr.core.delivery import notifications_admin as notifications
from sublarr.core.delivery.filters import OPERATORS

_FILTER = re.compile(
    r"^\s*(?P<field>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>not in|contains|==|!=|<=|>=|<|>|in)\s+(?P<value>.+?)\s*$"
)


def parse_filter(text: str) -> dict[str, Any]:
    """``FIELD OP VALUE`` as a condition (VALUE as JSON, else as text)."""
    match = _FILTER.match(text)
    if match is None or match["op"] not in OPERATORS:
        raise click.BadParameter(
            f"{text!r} is not 'FIELD OP VALUE' (OP: {', '.join(OPERATORS)})", param_hint="--filter"
        )
    try:
        value = json.loads(match["value"])
    except ValueError:
        value = match["value"]
    return {"field": match["field"], "op": match["op"], "value": value}


notifications_group = target_group(
    TargetCommands(
        kind=notifications.NOTIFICATION,
        name="notifications",
        help="Notifications through Apprise (Discord, Telegram, ntfy, Gotify, e-mail...) when events happen.",
        list_help="List notification targets; URLs are masked.",
        empty="No notification targets.",
        columns=(
            ("id", lambda r: r["id"]),
            ("name", lambda r: r["name"]),
            ("events", lambda r: ", ".join(r["events"])),
            ("enabled", lambda r: "yes" if r["enabled"] else "no"),
            ("url", lambda r: r["url"]),
            ("filters", lambda r: len(r["filters"]) or "-"),
            ("sent", lambda r: r["trigger_count"]),
            ("failures", lambda r: r["consecutive_failures"]),
            ("disabled because", lambda r: r["disabled_reason"] or "-"),
        ),
        test_verb="Send",
    )
)

_event_option = click.option(
    "--event",
    "events",
    multiple=True,
    metavar="EVENT",
    help="An event to notify about (repeatable); '*': all.",
)
_title_option = click.option("--title", "title_template", help="Title template (Jinja2); default: the label.")
_body_option = click.option("--body", "body_template", help="Body template (Jinja2); default: a summary.")
_filter_option = click.option(
    "--filter", "filters", multiple=True, metavar="'FIELD OP VALUE'", help="A condition (repeatable)."
)


@notifications_group.command("add")
@click.argument("name")
@click.argument("url")
@_event_option
@_title_option
@_body_option
@_filter_option
@click.option("--retries", "retry_count", type=int, default=3, show_default=True)
@click.option("--timeout", "timeout_seconds", type=int, default=10, show_default=True)
def notifications_add(
    name: str,
    url: str,
    events: tuple[str, ...],
    title_template: str | None,
    body_template: str | None,
    filters: tuple[str, ...],
    retry_count: int,
    timeout_seconds: int,
) -> None:
    """Add notification target NAME sending to the Apprise URL on each --event (default: all)."""
    record = notifications.add_notification(
        name,
        url,
        list(events) or ["*"],
        title_template=title_template or "",
        body_template=body_template or "",
        filters=[parse_filter(text) for text in filters],
        retry_count=retry_count,
        timeout_seconds=timeout_seconds,
    )
    click.echo(
        f"added notification {record['id']} ({record['name']}) to {record['url']} "
        f"on {', '.join(record['events'])}"
    )


@notifications_group.command("update")
@click.argument("notification_id", type=int)
@click.option("--name")
@click.option("--url")
@_event_option
@_title_option
@_body_option
@_filter_option
@click.option("--no-filters", is_flag=True, help="Remove every filter.")
@click.option("--retries", "retry_count", type=int)
@click.option("--timeout", "timeout_seconds", type=int)
@click.option("--enable/--disable", "enabled", default=None, help="Enable (clears failures) or disable.")
def notifications_update(
    notification_id: int,
    events: tuple[str, ...],
    filters: tuple[str, ...],
    no_filters: bool,
    **options: Any,
) -> None:
    """Change notification target NOTIFICATION_ID (only the options given)."""
    fields = {name: value for name, value in options.items() if value is not None}
    if events:
        fields["events"] = list(events)
    if filters or no_filters:
        fields["filters"] = [parse_filter(text) for text in filters]
    if not fields:
        raise click.UsageError("nothing to change: give at least one option")
    record = notifications.update_notification(notification_id, **fields)
    print_rows([record], False, "", (("id", lambda r: r["id"]), ("name", lambda r: r["name"]),
                                    ("events", lambda r: ", ".join(r["events"])), ("url", lambda r: r["url"]),
                                    ("enabled", lambda r: "yes" if r["enabled"] else "no")))  # fmt: skip
