"""``sublarr hooks``, ``sublarr webhooks`` and ``sublarr logs``: manage and test deliveries.

::

    sublarr hooks add NAME EVENT SCRIPT [--timeout 30]
    sublarr hooks list [--json]
    sublarr hooks test ID
    sublarr hooks remove ID
    sublarr webhooks add NAME EVENT URL [--secret whsec_...] [--retries 3] [--timeout 10]
                         [--method POST|PUT] [--header 'Authorization: Bearer x']...
    sublarr webhooks list [--json]          # secrets and header values masked
    sublarr webhooks test ID
    sublarr webhooks remove ID
    sublarr logs [--hook N | --webhook N] [--limit 50] [--json]
"""

from __future__ import annotations

import json
from typing import Any

import click

from sublarr.core.cli.tables import format_table
from sublarr.core.delivery import admin
from sublarr.core.delivery.fire import test_hook, test_webhook
from sublarr.core.errors import SublarrError


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


def _print_result(result: Any) -> None:
    data = result.as_dict()
    state = "OK" if data["success"] else "FAILED"
    if data["kind"] == "script":
        detail = f"exit code {data['exit_code']}" if data["exit_code"] is not None else "no exit code"
    else:
        detail = f"HTTP {data['status_code']}" if data["status_code"] is not None else "no response"
    click.echo(
        f"{state}: {data['kind']} {data['target_id']} ({data['target_name']}) {detail} "
        f"in {data['duration_ms']:.0f} ms"
    )
    if data["error"]:
        click.echo(f"error: {data['error']}")
    if data["stdout"]:
        click.echo(f"stdout:\n{data['stdout'].rstrip()}")
    if data["stderr"]:
        click.echo(f"stderr:\n{data['stderr'].rstrip()}")
    if not data["success"]:
        raise SystemExit(1)


# ---- hooks -------------------------------------------------------------------------------


@click.group("hooks")
def hooks_group() -> None:
    """Script hooks: run a script from the hooks directory when an event happens."""


@hooks_group.command("add")
@click.argument("name")
@click.argument("event")
@click.argument("script")
@click.option(
    "--timeout",
    "timeout_seconds",
    type=int,
    default=30,
    show_default=True,
    help="Seconds before the script and its children are killed.",
)
def hooks_add(name: str, event: str, script: str, timeout_seconds: int) -> None:
    """Add hook NAME running SCRIPT (inside SUBLARR_HOOKS_DIR) on EVENT."""
    try:
        record = admin.add_hook(name, event, script, timeout_seconds)
    except SublarrError as exc:
        raise _fail(exc) from None
    click.echo(f"added hook {record['id']} ({record['name']}) on {record['event_name']}")


@hooks_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def hooks_list(as_json: bool) -> None:
    """List script hooks."""
    rows = admin.list_hooks()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No script hooks.")
        return
    click.echo(
        format_table(
            [
                [
                    r["id"],
                    r["name"],
                    r["event_name"],
                    "yes" if r["enabled"] else "no",
                    r["script_path"],
                    r["timeout_seconds"],
                    r["trigger_count"],
                    r["last_status"] or "-",
                ]
                for r in rows
            ],
            ["id", "name", "event", "enabled", "script", "timeout", "runs", "last"],
        )
    )


@hooks_group.command("test")
@click.argument("hook_id", type=int)
def hooks_test(hook_id: int) -> None:
    """Run hook HOOK_ID once now with a sample payload (event type 'test')."""
    try:
        result = test_hook(hook_id)
    except SublarrError as exc:
        raise _fail(exc) from None
    _print_result(result)


@hooks_group.command("remove")
@click.argument("hook_id", type=int)
def hooks_remove(hook_id: int) -> None:
    """Remove hook HOOK_ID (its log is kept)."""
    try:
        admin.remove_hook(hook_id)
    except SublarrError as exc:
        raise _fail(exc) from None
    click.echo(f"removed hook {hook_id}")


# ---- webhooks ----------------------------------------------------------------------------


def _parse_headers(values: tuple[str, ...]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for value in values:
        name, sep, content = value.partition(":")
        if not sep or not name.strip():
            raise click.BadParameter(f"{value!r} is not 'Name: value'", param_hint="--header")
        headers[name.strip()] = content.strip()
    return headers


@click.group("webhooks")
def webhooks_group() -> None:
    """Outgoing webhooks: POST a signed JSON envelope when an event happens."""


@webhooks_group.command("add")
@click.argument("name")
@click.argument("event")
@click.argument("url")
@click.option("--secret", help="A whsec_<base64> secret; one is generated when omitted.")
@click.option("--retries", "retry_count", type=int, default=3, show_default=True)
@click.option("--timeout", "timeout_seconds", type=int, default=10, show_default=True)
@click.option(
    "--method", type=click.Choice(["POST", "PUT"], case_sensitive=False), default="POST", show_default=True
)
@click.option(
    "--header",
    "headers",
    multiple=True,
    metavar="'NAME: VALUE'",
    help="A custom header (e.g. Authorization); repeatable.",
)
def webhooks_add(
    name: str,
    event: str,
    url: str,
    secret: str | None,
    retry_count: int,
    timeout_seconds: int,
    method: str,
    headers: tuple[str, ...],
) -> None:
    """Add webhook NAME calling URL on EVENT ('*' for every event)."""
    try:
        record = admin.add_webhook(
            name,
            event,
            url,
            secret,
            retry_count,
            timeout_seconds,
            method=method,
            headers=_parse_headers(headers),
        )
    except SublarrError as exc:
        raise _fail(exc) from None
    click.echo(f"added webhook {record['id']} ({record['name']}) on {record['event_name']}")
    if not secret:
        click.echo(f"signing secret (shown once): {record['secret']}")


@webhooks_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def webhooks_list(as_json: bool) -> None:
    """List webhooks; secrets and header values are masked."""
    rows = admin.list_webhooks()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No webhooks.")
        return
    click.echo(
        format_table(
            [
                [
                    r["id"],
                    r["name"],
                    r["event_name"],
                    "yes" if r["enabled"] else "no",
                    r["method"],
                    r["url"],
                    r["secret"] or "-",
                    ", ".join(r["headers"]) or "-",
                    r["consecutive_failures"],
                    r["disabled_reason"] or "-",
                ]
                for r in rows
            ],
            [
                "id",
                "name",
                "event",
                "enabled",
                "method",
                "url",
                "secret",
                "headers",
                "failures",
                "disabled because",
            ],
        )
    )


@webhooks_group.command("test")
@click.argument("webhook_id", type=int)
def webhooks_test(webhook_id: int) -> None:
    """Send webhook WEBHOOK_ID once now with a sample payload (event type 'test')."""
    try:
        result = test_webhook(webhook_id)
    except SublarrError as exc:
        raise _fail(exc) from None
    _print_result(result)


@webhooks_group.command("remove")
@click.argument("webhook_id", type=int)
def webhooks_remove(webhook_id: int) -> None:
    """Remove webhook WEBHOOK_ID (its log is kept)."""
    try:
        admin.remove_webhook(webhook_id)
    except SublarrError as exc:
        raise _fail(exc) from None
    click.echo(f"removed webhook {webhook_id}")


# ---- logs --------------------------------------------------------------------------------


@click.command("logs")
@click.option("--hook", "hook_id", type=int, help="Only this hook's runs.")
@click.option("--webhook", "webhook_id", type=int, help="Only this webhook's deliveries.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def logs_command(hook_id: int | None, webhook_id: int | None, limit: int, as_json: bool) -> None:
    """Show the hook and webhook execution log, newest first."""
    from sublarr.core.db.hooks import get_hook_logs

    try:
        rows = get_hook_logs(hook_id=hook_id, webhook_id=webhook_id, limit=limit)
    except SublarrError as exc:
        raise _fail(exc) from None
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No log entries.")
        return
    click.echo(
        format_table(
            [
                [
                    r["triggered_at"][:19],
                    r["hook_type"],
                    r["hook_id"] if r["hook_id"] is not None else r["webhook_id"],
                    r["event_name"],
                    "ok" if r["success"] else "FAILED",
                    r["exit_code"] if r["exit_code"] is not None else (r["status_code"] or "-"),
                    f"{r['duration_ms']:.0f}",
                    (r["error"] or "").splitlines()[0][:60] if r["error"] else "",
                ]
                for r in rows
            ],
            ["time", "type", "id", "event", "result", "code", "ms", "error"],
        )
    )


COMMANDS = (hooks_group, webhooks_group, logs_command)
