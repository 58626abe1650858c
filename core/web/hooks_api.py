"""``/api/v1/hooks``: script hooks (CRUD and test runs) and the execution log of hooks and webhooks.

A hook's script must be an executable file inside the hooks directory
(``SUBLARR_HOOKS_DIR``); a path elsewhere is refused with 422 when the hook is stored.
``POST /hooks/{id}/test`` runs the hook once now with a sample payload and answers with the
outcome (also written to the log), like the Test button of Sonarr's connections.
"""

from __future__ import annotations

import logging
from typing import Any

from sublarr.core.db import hooks as store
from sublarr.core.delivery import admin
from sublarr.core.errors import ValidationError
from sublarr.core.web.schemas import (
    DeletedSchema,
    HookCreateSchema,
    HookListSchema,
    HookLogListSchema,
    HookSchema,
    HookUpdateSchema,
    LogFilterSchema,
    LogQuerySchema,
)
from sublarr.core.web.targets_api import TargetResource, target_blueprint

logger = logging.getLogger(__name__)

hooks_api = target_blueprint(
    TargetResource(
        kind=admin.HOOK,
        name="hooks",
        tag="Hooks",
        create_schema=HookCreateSchema,
        update_schema=HookUpdateSchema,
        item_schema=HookSchema,
        list_schema=HookListSchema,
        summaries={
            "list": "Every script hook, in id order",
            "create": "Store a script hook run on an event",
            "get": "One script hook",
            "update": "Change a script hook (only the fields sent)",
            "delete": "Delete a script hook (its log stays)",
            "test": "Run a hook once now with a sample payload; the outcome, also logged",
        },
        not_found="No such hook",
        refused="A value is refused (e.g. a script outside the hooks directory)",
    )
)


@hooks_api.get("/logs")
@hooks_api.input(LogQuerySchema, location="query", arg_name="query")
@hooks_api.output(HookLogListSchema)
@hooks_api.doc(
    summary="Execution log of hooks and webhook deliveries, newest first, a page at a time",
    description=(
        "Pages by cursor: pass the next_cursor of a page as cursor to get the next (older) one; "
        "next_cursor is null on the last page. Filters combine. total is counted only with "
        "include_total=true. offset is deprecated (it cannot be combined with cursor)."
    ),
)
def get_logs(query: dict[str, Any]) -> dict[str, Any]:
    filters = {name: query.get(name) for name in ("hook_id", "webhook_id")}
    filters.update({name: query[name] for name in ("event_name", "success", "delivery_id") if name in query})
    if "cursor" in query and query.get("offset"):
        raise ValidationError("offset", "cannot be combined with cursor (offset is deprecated: use cursor)")
    before_id = store.parse_log_cursor(query["cursor"]) if "cursor" in query else None
    limit = query["limit"]
    rows = store.get_hook_logs(
        **filters, limit=limit + 1, offset=query.get("offset") or 0, before_id=before_id
    )  # one more than asked: whether a next page exists
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "logs": rows,
        "next_cursor": store.log_cursor(rows[-1]["id"]) if more else None,
        "total": store.get_hook_log_count(**filters) if query["include_total"] else None,
        "limit": limit,
    }


@hooks_api.delete("/logs")
@hooks_api.input(LogFilterSchema, location="query", arg_name="query")
@hooks_api.output(DeletedSchema)
@hooks_api.doc(summary="Clear the execution log (of one hook and/or webhook, or all)")
def clear_logs(query: dict[str, Any]) -> dict[str, Any]:
    deleted = store.clear_hook_logs(query.get("hook_id"), query.get("webhook_id"))
    logger.info("cleared %d hook log record(s) through the API", deleted)
    return {"deleted": deleted}
