"""``/api/v1/hooks``: script hooks (CRUD and test runs) and the execution log of hooks and webhooks.

A hook's script must be an executable file inside the hooks directory
(``SUBLARR_HOOKS_DIR``); a path elsewhere is refused with 422 when the hook is stored.
``POST /hooks/{id}/test`` runs the hook once now with a sample payload and answers with the
outcome (also written to the log), like the Test button of Sonarr's connections.
"""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIBlueprint
from flask import current_app

from sublarr.core.db import hooks as store
from sublarr.core.delivery import admin
from sublarr.core.delivery.fire import test_hook
from sublarr.core.delivery.script_runner import ScriptRefusedError
from sublarr.core.errors import NotFoundError, ValidationError
from sublarr.core.web.schemas import (
    MAX_ID,
    DeletedSchema,
    ErrorSchema,
    HookCreateSchema,
    HookListSchema,
    HookLogListSchema,
    HookSchema,
    HookUpdateSchema,
    LogFilterSchema,
    LogQuerySchema,
    TestResultSchema,
    responses,
)

logger = logging.getLogger(__name__)

hooks_api = APIBlueprint("hooks", __name__, url_prefix="/api/v1/hooks", tag="Hooks")

_NOT_FOUND = ("No such hook", ErrorSchema)
_REFUSED = ("A value is refused (e.g. a script outside the hooks directory)", ErrorSchema)


def _settings() -> Any:
    return current_app.extensions["sublarr.settings"]


def _check_script(script_path: str) -> None:
    """Refuse (422) a script that may not run: outside the hooks dir, missing, unresolvable."""
    try:
        admin.check_script_path(script_path, _settings())
    except ValidationError:
        raise
    except ScriptRefusedError as exc:
        raise ValidationError("script_path", str(exc)) from None
    except (RuntimeError, OSError, ValueError) as exc:  # e.g. "~nobody/x": no such home directory
        raise ValidationError("script_path", f"cannot be resolved: {exc}") from None


def hook_or_404(hook_id: int) -> dict[str, Any]:
    """The stored hook ``hook_id``; ``NotFoundError`` when there is none."""
    record = store.get_hook_config(hook_id) if 1 <= hook_id <= MAX_ID else None
    if record is None:
        raise NotFoundError(f"hook {hook_id} does not exist")
    return record


@hooks_api.get("")
@hooks_api.output(HookListSchema)
@hooks_api.doc(summary="Every script hook, in id order")
def list_hooks() -> dict[str, Any]:
    return {"hooks": store.get_hook_configs()}


@hooks_api.post("")
@hooks_api.input(HookCreateSchema, arg_name="body")
@hooks_api.output(HookSchema, status_code=201)
@hooks_api.doc(summary="Store a script hook run on an event", responses=responses(r422=_REFUSED))
def create_hook(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    _check_script(body["script_path"])
    record = admin.add_hook(
        body["name"], body["event_name"], body["script_path"], body["timeout_seconds"], settings=_settings()
    )
    if not body["enabled"]:
        store.update_hook_config(record["id"], enabled=False)
        record = hook_or_404(record["id"])
    return record, 201


@hooks_api.get("/logs")
@hooks_api.input(LogQuerySchema, location="query", arg_name="query")
@hooks_api.output(HookLogListSchema)
@hooks_api.doc(summary="Execution log of hooks and webhook deliveries, newest first")
def get_logs(query: dict[str, Any]) -> dict[str, Any]:
    hook_id, webhook_id = query.get("hook_id"), query.get("webhook_id")
    return {
        "logs": store.get_hook_logs(hook_id, webhook_id, query["limit"], query["offset"]),
        "total": store.get_hook_log_count(hook_id, webhook_id),
        "limit": query["limit"],
        "offset": query["offset"],
    }


@hooks_api.delete("/logs")
@hooks_api.input(LogFilterSchema, location="query", arg_name="query")
@hooks_api.output(DeletedSchema)
@hooks_api.doc(summary="Clear the execution log (of one hook and/or webhook, or all)")
def clear_logs(query: dict[str, Any]) -> dict[str, Any]:
    deleted = store.clear_hook_logs(query.get("hook_id"), query.get("webhook_id"))
    logger.info("cleared %d hook log record(s) through the API", deleted)
    return {"deleted": deleted}


@hooks_api.get("/<int:hook_id>")
@hooks_api.output(HookSchema)
@hooks_api.doc(summary="One script hook", responses=responses(r404=_NOT_FOUND))
def get_hook(hook_id: int) -> dict[str, Any]:
    return hook_or_404(hook_id)


@hooks_api.put("/<int:hook_id>")
@hooks_api.input(HookUpdateSchema, arg_name="body")
@hooks_api.output(HookSchema)
@hooks_api.doc(
    summary="Change a script hook (only the fields sent)",
    responses=responses(r404=_NOT_FOUND, r422=_REFUSED),
)
def update_hook(hook_id: int, body: dict[str, Any]) -> dict[str, Any]:
    hook_or_404(hook_id)
    if not body:
        return hook_or_404(hook_id)
    if "script_path" in body:
        _check_script(body["script_path"])
    return admin.update_hook(hook_id, settings=_settings(), **body)


@hooks_api.delete("/<int:hook_id>")
@hooks_api.output({}, status_code=204)
@hooks_api.doc(summary="Delete a script hook (its log stays)", responses=responses(r404=_NOT_FOUND))
def delete_hook(hook_id: int) -> tuple[str, int]:
    hook_or_404(hook_id)
    admin.remove_hook(hook_id)
    return "", 204


@hooks_api.post("/<int:hook_id>/test")
@hooks_api.output(TestResultSchema)
@hooks_api.doc(
    summary="Run a hook once now with a sample payload; the outcome, also logged",
    responses=responses(r404=_NOT_FOUND),
)
def run_test(hook_id: int) -> dict[str, Any]:
    hook_or_404(hook_id)
    result = test_hook(hook_id, settings=_settings())
    logger.info("hook %d tested through the API: %s", hook_id, result.outcome)
    return result.as_dict()
