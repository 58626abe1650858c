"""Recovering every failed delivery of one target since a time (Svix's "recover").

``recover_failed(kind, target_id, since)`` sends again, through ``redelivery.redeliver``,
each ``failed`` delivery of one script hook, webhook or notification target whose event
was queued at or after ``since``: the same delivery ids, so receivers see the same
``webhook-id`` and can de-duplicate; each new attempt is a new ``hook_log`` row with that
``delivery_id``. Deliveries purged after ``redelivery.KEPT_DAYS`` days cannot be
recovered.

``since`` is an ISO-8601 time (``2026-11-28T12:00:00Z``; without a zone: UTC) or a span
back from now (``30m``, ``2h``, ``7d``, ``45s``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from sublarr.core.db.engine import get_engine
from sublarr.core.db.hooks import TARGET_TABLES
from sublarr.core.db.models import Delivery
from sublarr.core.delivery import store
from sublarr.core.delivery.redelivery import redeliver
from sublarr.core.errors import ConflictError, NotFoundError, ValidationError

logger = logging.getLogger(__name__)

MAX_RECOVERED = 1000
_SPAN = re.compile(r"^\s*(\d{1,6})\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(since: Any, now: datetime | None = None) -> str:
    """``since`` as the stored timestamp text it is compared with (UTC, microseconds)."""
    now = now or datetime.now(timezone.utc)
    if isinstance(since, datetime):
        moment = since
    elif isinstance(since, str) and (span := _SPAN.match(since)):
        moment = now - timedelta(**{_UNITS[span[2]]: int(span[1])})
    elif isinstance(since, str):
        try:
            moment = datetime.fromisoformat(since.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValidationError(
                "since", f"{since!r} is not an ISO-8601 time (2026-11-28T12:00:00Z) or a span (30m, 2h, 7d)"
            ) from None
    else:
        raise ValidationError("since", "must be an ISO-8601 time or a span such as 2h")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


@dataclass
class Recovery:
    """What ``recover_failed`` did: the deliveries queued again, and those it left (with why)."""

    kind: str
    target_id: int
    since: str
    requeued: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    more: bool = False  # more than MAX_RECOVERED matched: call again

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            "kind": self.kind,
            "target_id": self.target_id,
            "since": self.since,
            "requeued": list(self.requeued),
            "skipped": [dict(item) for item in self.skipped],
            "count": len(self.requeued),
            "more": self.more,
        }


def failed_since(kind: str, target_id: int, since: str, limit: int = MAX_RECOVERED) -> list[str]:
    """Ids of the ``failed`` deliveries of one target queued at or after ``since``, oldest first."""
    query = (
        select(Delivery.id)
        .where(
            Delivery.kind == kind,
            Delivery.target_id == target_id,
            Delivery.status == "failed",
            Delivery.created_at >= since,
        )
        .order_by(Delivery.created_at, Delivery.id)
        .limit(limit)
    )
    with get_engine().connect() as conn:
        return [str(delivery_id) for delivery_id in conn.execute(query).scalars()]


def recover_failed(kind: str, target_id: int, since: Any) -> Recovery:
    """Queue again every failed delivery of target ``target_id`` of ``kind`` since ``since``.

    ``NotFoundError`` when the target does not exist, ``ConflictError`` when it is
    disabled (nothing is queued then), ``ValidationError`` for a bad ``kind`` or ``since``.
    """
    if kind not in TARGET_TABLES:
        raise ValidationError("kind", f"must be one of {', '.join(TARGET_TABLES)}")
    table = TARGET_TABLES[kind]
    moment = parse_since(since)
    target = store.load_target(kind, target_id)
    if target is None:
        raise NotFoundError(f"{table.label} {target_id} does not exist")
    if not target.get("enabled"):
        raise ConflictError(f"{table.label} {target_id} is disabled; enable it first")
    result = Recovery(kind, target_id, moment)
    ids = failed_since(kind, target_id, moment, MAX_RECOVERED + 1)
    result.more = len(ids) > MAX_RECOVERED
    for delivery_id in ids[:MAX_RECOVERED]:
        try:
            redeliver(delivery_id)
        except (ConflictError, NotFoundError) as exc:  # meanwhile requeued, purged or disabled
            result.skipped.append({"id": delivery_id, "reason": str(exc)})
        else:
            result.requeued.append(delivery_id)
    logger.info(
        "recovered %d failed delivery(ies) of %s %d since %s",
        len(result.requeued),
        table.label,
        target_id,
        moment,
    )
    return result
