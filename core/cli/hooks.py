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
    sublarr logs [--hook N] [--webhook N] [--event NAME] [--failed | --succeeded] [--delivery ID]
                 [--limit 50] [--json]

``list``, ``test`` and ``remove`` are made once for both kinds by ``target_group``; each
kind adds its own ``add``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import click

from sublarr.core.cli.tables import format_table
from sublarr.core.db.hooks import get_hook_logs
from sublarr.core.delivery import admin
from sublarr.core.delivery.fire import fire_target

Column = tuple[str, Callable[[dict[str, Any]], Any]]


def print_rows(rows: list[dict[str, Any]], as_json: bool, empty: str, columns: Sequence[Column]) -> None:
    """``rows`` as JSON, or as a table of ``columns`` (header, value of a row), or ``empty``."""
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif not rows:
        click.echo(empty)
    else:
        click.echo(format_table([[value(r) for _, value in columns] for r in rows], [h for h, _ in columns]))


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


# The first columns of both kinds' tables.
_TARGET_COLUMNS: tuple[Column, ...] = (
    ("id", lambda r: r["id"]),
    ("name", lambda r: r["name"]),
    ("event", lambda r: r["event_name"]),
    ("enabled", lambda r: "yes" if r["enabled"] else "no"),
)


# ---- what both kinds share: list, test, remove ---------------------------------------------


@dataclass(frozen=True)
class TargetCommands:
    """The texts and table of one kind's command group."""

    kind: admin.TargetKind
    name: str  # the group: "hooks"
    help: str
    list_help: str
    empty: str  # printed by list when there is none
    columns: Sequence[Column]
    test_verb: str  # "Run" / "Send"


def target_group(spec: TargetCommands) -> click.Group:
    """The ``list``, ``test`` and ``remove`` commands of one kind, in a group named ``spec.name``."""
    kind, label = spec.kind, spec.kind.label
    id_arg = f"{label}_id"
    group = click.Group(spec.name, help=spec.help)

    @group.command("list", help=spec.list_help)
    @click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
    def list_command(as_json: bool) -> None:
        print_rows(admin.list_targets(kind), as_json, spec.empty, spec.columns)

    @group.command(
        "test",
        help=f"{spec.test_verb} {label} {id_arg.upper()} once now with a sample payload (event type 'test').",
    )
    @click.argument(id_arg, type=int)
    def test_command(**ids: int) -> None:
        _print_result(fire_target(kind, ids[id_arg]))

    @group.command("remove", help=f"Remove {label} {id_arg.upper()} (its log is kept).")
    @click.argument(id_arg, type=int)
    def remove_command(**ids: int) -> None:
        admin.remove(kind, ids[id_arg])
        click.echo(f"removed {label} {ids[id_arg]}")

    return group


def _added(kind: admin.TargetKind, record: dict[str, Any]) -> None:
    click.echo(f"added {kind.label} {record['id']} ({record['name']}) on {record['event_name']}")


# ---- hooks -------------------------------------------------------------------------------

hooks_group = target_group(
    TargetCommands(
        kind=admin.HOOK,
        name="hooks",
        help="Script hooks: run a script from the hooks directory when an event happens.",
        list_help="List script hooks.",
        empty="No script hooks.",
        columns=(
            *_TARGET_COLUMNS,
            ("script", lambda r: r["script_path"]),
            ("timeout", lambda r: r["timeout_seconds"]),
            ("runs", lambda r: r["trigger_count"]),
            ("last", lambda r: r["last_status"] or "-"),
        ),
        test_verb="Run",
    )
)


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
    _added(admin.HOOK, admin.add_hook(name, event, script, timeout_seconds))


# ---- webhooks ----------------------------------------------------------------------------

webhooks_group = target_group(
    TargetCommands(
        kind=admin.WEBHOOK,
        name="webhooks",
        help="Outgoing webhooks: POST a signed JSON envelope when an event happens.",
        list_help="List webhooks; secrets and header values are masked.",
        empty="No webhooks.",
        columns=(
            *_TARGET_COLUMNS,
            ("method", lambda r: r["method"]),
            ("url", lambda r: r["url"]),
            ("secret", lambda r: r["secret"] or "-"),
            ("headers", lambda r: ", ".join(r["headers"]) or "-"),
            ("failures", lambda r: r["consecutive_failures"]),
            ("disabled because", lambda r: r["disabled_reason"] or "-"),
        ),
        test_verb="Send",
    )
)


def _parse_headers(values: tuple[str, ...]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for value in values:
        name, sep, content = value.partition(":")
        if not sep or not name.strip():
            raise click.BadParameter(f"{value!r} is not 'Name: value'", param_hint="--header")
        headers[name.strip()] = content.strip()
    return headers


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
    record = admin.add_webhook(
        name, event, url, secret, retry_count, timeout_seconds, method=method, headers=_parse_headers(headers)
    )
    _added(admin.WEBHOOK, record)
    if not secret:
        click.echo(f"signing secret (shown once): {record['secret']}")


# ---- logs --------------------------------------------------------------------------------


@click.command("logs")
@click.option("--hook", "hook_id", type=int, help="Only this hook's runs.")
@click.option("--webhook", "webhook_id", type=int, help="Only this webhook's deliveries.")
@click.option("--event", "event_name", help="Only attempts for this event.")
@click.option(
    "--failed/--succeeded", "success", default=None, help="Only failed (or only successful) attempts."
)
@click.option("--delivery", "delivery_id", help="Only attempts of this delivery (its webhook-id).")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def logs_command(
    hook_id: int | None,
    webhook_id: int | None,
    event_name: str | None,
    success: bool | None,
    delivery_id: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Show the hook and webhook execution log, newest first."""
    rows = get_hook_logs(
        hook_id=hook_id,
        webhook_id=webhook_id,
        limit=limit,
        event_name=event_name,
        success=None if success is None else not success,
        delivery_id=delivery_id,
    )
    print_rows(
        rows,
        as_json,
        "No log entries.",
        (
            ("time", lambda r: r["triggered_at"][:19]),
            ("type", lambda r: r["hook_type"]),
            ("id", lambda r: r["hook_id"] if r["hook_id"] is not None else r["webhook_id"]),
            ("event", lambda r: r["event_name"]),
            ("result", lambda r: "ok" if r["success"] else "FAILED"),
            ("code", lambda r: r["exit_code"] if r["exit_code"] is not None else (r["status_code"] or "-")),
            ("ms", lambda r: f"{r['duration_ms']:.0f}"),
            ("error", lambda r: (r["error"] or "").splitlines()[0][:60] if r["error"] else ""),
        ),
    )
