"""``/api/v1/health``: the one route open without the API key; says only whether all is well."""

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

    with get_engine().connect() as connection:
        connection.execute(text("SELECT 1"))
    return "ok"


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
