"""``sublarr worker``: the hook and webhook delivery workers alone, without HTTP.

Any number of ``sublarr worker`` processes (and ``sublarr serve`` processes, unless they run
with ``--no-workers``) share one database's delivery queue: a claim hands each queued
attempt to one process (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the one writer lock on
SQLite), and a claim whose process died is taken over once its lease
(``SUBLARR_DELIVERY_LEASE``) runs out, at once when the dead process ran on the same host.
Ctrl-C or SIGTERM stops claiming and lets running deliveries finish (up to
``SUBLARR_DELIVERY_SHUTDOWN_TIMEOUT``); unstarted ones stay queued for the other workers.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

import click

from sublarr.core.cli.context import settings_with, use_settings

logger = logging.getLogger(__name__)

READY_LINE = "sublarr worker running"


def _mask(url: Any) -> str:
    return str(url.render_as_string(hide_password=True))


@click.command("worker")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Delivery threads in this process.  [default: SUBLARR_DELIVERY_WORKERS]",
)
@click.pass_context
def worker_command(ctx: click.Context, workers: int | None) -> None:
    """Run the hook/webhook delivery workers only (no HTTP), until Ctrl-C or SIGTERM."""
    from sublarr.core.db.engine import database_url_for, dispose_db, init_db
    from sublarr.core.delivery.worker_pool import start_pool, stop_pool

    settings = use_settings(
        ctx, settings_with(ctx, SUBLARR_DELIVERY_WORKERS=workers), default_log_level="info"
    )
    if settings.message_queue:
        from sublarr.core.events.relay import require_redis_client

        require_redis_client(settings.message_queue)
    url = database_url_for(settings)
    init_db(url)  # created and migrated on first start, like serve
    stop = threading.Event()
    signalled: list[int] = []

    def request_stop(signum: int, frame: Any) -> None:
        signalled.append(signum)
        stop.set()
        # A second Ctrl-C while draining ends at once (Click's "Aborted!").
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        pool = start_pool(settings)
        click.echo(
            f"{READY_LINE}: {pool.size} delivery workers on {_mask(url)} (pool {pool.owner}).\n"
            "Press Ctrl-C to stop."
        )
        while not stop.wait(1.0):
            pass
        logger.info("draining delivery workers")
        finished = stop_pool()
        logger.info("delivery workers stopped%s", "" if finished else " (some work left to its lease)")
    finally:
        stop_pool(timeout=0)
        dispose_db()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    click.echo("sublarr worker stopped.")
