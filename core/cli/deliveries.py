"""``sublarr deliveries``: send a finished delivery again, or recover every failed one since a time.

::

    sublarr deliveries resend DELIVERY_ID [--json]
    sublarr deliveries recover (--webhook ID | --notification ID | --hook ID) --since 2h [--json]

A delivery keeps its id (the ``webhook-id`` receivers see) when it is sent again, so a
receiver that de-duplicates on it handles a resend like a retry. ``--since`` takes an
ISO-8601 time (``2026-11-28T12:00:00Z``; UTC without a zone) or a span back from now
(``30m``, ``2h``, ``7d``). The delivery ids are in ``sublarr logs --json``
(``delivery_id``).
"""

from __future__ import annotations

import json

import click

from sublarr.core.delivery.recovery import recover_failed
from sublarr.core.delivery.redelivery import redeliver


@click.group("deliveries")
def deliveries_group() -> None:
    """Queued deliveries: send a finished one again, recover failed ones."""


@deliveries_group.command("resend")
@click.argument("delivery_id")
@click.option("--json", "as_json", is_flag=True, help="Print the delivery as JSON.")
def resend_command(delivery_id: str, as_json: bool) -> None:
    """Queue finished delivery DELIVERY_ID again (same id, a fresh round of attempts)."""
    row = redeliver(delivery_id)
    if as_json:
        click.echo(json.dumps({**row, "payload": json.loads(row["payload"])}, indent=2))
    else:
        click.echo(f"queued again: {row['id']} ({row['kind']} {row['target_id']}, {row['event_name']})")


@deliveries_group.command("recover")
@click.option("--webhook", "webhook_id", type=int, help="The failed deliveries of this webhook.")
@click.option("--notification", "notification_id", type=int, help="... of this notification target.")
@click.option("--hook", "hook_id", type=int, help="... of this script hook.")
@click.option("--since", required=True, help="ISO-8601 time or a span back from now (30m, 2h, 7d).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def recover_command(
    webhook_id: int | None, notification_id: int | None, hook_id: int | None, since: str, as_json: bool
) -> None:
    """Queue again every failed delivery of one target whose event came at or after --since."""
    chosen = [
        (kind, target_id)
        for kind, target_id in (
            ("webhook", webhook_id),
            ("notification", notification_id),
            ("script", hook_id),
        )
        if target_id is not None
    ]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --webhook, --notification or --hook")
    kind, target_id = chosen[0]
    result = recover_failed(kind, target_id, since).as_dict()
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"queued again: {result['count']} failed delivery(ies) since {result['since']}")
    for delivery_id in result["requeued"]:
        click.echo(f"  {delivery_id}")
    for skipped in result["skipped"]:
        click.echo(f"  skipped {skipped['id']}: {skipped['reason']}")
    if result["more"]:
        click.echo("more failed deliveries match: run it again")
