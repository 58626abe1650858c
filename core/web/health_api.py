"""``/api/v1/health``: the one route open without the API key; says only whether all is well.

``checks.database`` is ``ok``, or ``failing: <reason>`` when the database cannot be used as
sublarr relies on it: it does not answer, its file was deleted or replaced while sublarr
runs (writes are refused until a restart), or the delivery queue cannot be written (events
are refused). The reasons name a kind of failure, never paths, hosts or SQL. While the queue
cannot be written each health check tries one small write, so the status recovers by
itself once the disk or database does (any event emitted meanwhile tells it too).
"""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIBlueprint
from flask import current_app

from sublarr.core.web.schemas import HealthSchema, responses

logger = logging.getLogger(__name__)

health_api = APIBlueprint("health", __name__, url_prefix="/api/v1/health", tag="Health")

HEALTH_CHECKS_KEY = "sublarr.health_checks"


def _database() -> str:
    from sqlalchemy import text

    from sublarr.core.db import get_engine
    from sublarr.core.db.engine import database_file_problem
    from sublarr.core.delivery.store import describe_storage_failure, queue_problem

    try:
        problem = database_file_problem()
        if problem is None:
            with get_engine().connect() as connection:
                connection.execute(text("SELECT 1"))
            problem = queue_problem()
    except Exception as exc:  # noqa: BLE001 - a failing database is reported, not raised
        logger.warning("health check database failed: %s", exc)
        problem = describe_storage_failure(exc)
    return "ok" if problem is None else f"failing: {problem}"


@health_api.get("")
@health_api.output(HealthSchema, description="All checks pass")
@health_api.doc(
    summary="Liveness and readiness; no API key needed",
    responses=responses(r503=("A check failed", HealthSchema)),
)
def health() -> tuple[dict[str, Any], int]:
    checks: dict[str, str] = {}
    extra = current_app.extensions.get(HEALTH_CHECKS_KEY, {})
    for name, check in {"database": _database, **extra}.items():
        try:
            checks[name] = check()
        except Exception as exc:  # noqa: BLE001 - a failing check is reported, not raised
            logger.warning("health check %s failed: %s", name, exc)
            checks[name] = "failing"
    ok = all(value in ("ok", "running") for value in checks.values())
    return {"status": "ok" if ok else "degraded", "checks": checks}, 200 if ok else 503
