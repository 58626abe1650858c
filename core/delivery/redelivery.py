"""Sending a finished delivery again: the same id, so the same ``webhook-id`` for receivers.

``redeliver(delivery_id)`` puts one delivered, failed or skipped delivery back on the queue,
due now with a fresh round of attempts (its hook's or webhook's retry count), like Svix's
"resend". Receivers that de-duplicate on ``webhook-id`` see it as the same message; each
attempt is a new ``hook_log`` row with the same ``delivery_id``. Finished deliveries are
kept for ``KEPT_DAYS`` days (then purged; their log rows stay): older ones cannot be sent
again.
"""

from __future__ import annotations

import logging
from typing import Any

from sublarr.core.delivery import store
from sublarr.core.delivery.enqueue import wake_pools
from sublarr.core.delivery.worker_pool import PURGE_AFTER_SECONDS
from sublarr.core.errors import ConflictError, NotFoundError

logger = logging.getLogger(__name__)

KEPT_DAYS = PURGE_AFTER_SECONDS // 86400
_KIND_NAMES = {"script": "hook", "webhook": "webhook"}


def redeliver(delivery_id: str) -> dict[str, Any]:
    """Queue the finished delivery ``delivery_id`` again now; return its row (status ``pending``).

    Raises ``NotFoundError`` when no such delivery is kept, and ``ConflictError`` (nothing
    changed) when it is still queued or running, or its hook or webhook was deleted or is
    disabled.
    """
    row = store.get_delivery(delivery_id)
    if row is None:
        raise NotFoundError(
            f"no delivery {delivery_id!r} is kept (finished deliveries are kept {KEPT_DAYS} days)"
        )
    kind_name = _KIND_NAMES.get(row["kind"], row["kind"])
    if row["status"] not in store.FINISHED:
        raise ConflictError(f"delivery {delivery_id} is still queued ({row['status']}); it needs no resend")
    target = store.load_target(row["kind"], row["target_id"])
    if target is None:
        raise ConflictError(f"delivery {delivery_id} cannot be sent again: its {kind_name} was deleted")
    if not target.get("enabled"):
        raise ConflictError(
            f"delivery {delivery_id} cannot be sent again: its {kind_name} {row['target_id']} is disabled; "
            "enable it first"
        )
    requeued = store.requeue_finished(delivery_id)
    if requeued is None:  # another request requeued it (or a pool took it) since the read
        raise ConflictError(f"delivery {delivery_id} is already queued again")
    logger.info("delivery %s of %s %d queued again", delivery_id, kind_name, row["target_id"])
    wake_pools()
    return requeued
