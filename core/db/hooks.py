"""Stored script hooks, outgoing webhooks and their execution log.

Records are returned as plain dicts with every column of the table (``enabled`` and
``success`` as ``bool``, timestamps as ISO-8601 UTC text). Webhook dicts include the
``secret``: mask it before showing a record to a user.

Input is checked before anything is written; a refused call raises ``ValidationError``
naming the field and leaves the database unchanged:

* ``name``: non-empty, at most 200 characters, no control characters (stored stripped).
* ``event_name``: an event of ``EVENT_CATALOG`` at call time; webhooks may also use ``*``
  (every event).
* ``script_path``: non-empty, at most 4096 characters. Where scripts may live is enforced
  when a hook runs, not here.
* ``url``: ``http://`` or ``https://`` with a host, at most 2048 characters.
* ``secret``: a string of at most 1024 characters.
* ``timeout_seconds``: 1..3600 for hooks, 1..300 for webhooks.
* ``retry_count``: 0..10.
* ``enabled``: a bool (or 0/1).
* ints are real ints: ``True`` and ``"5"`` are refused.
* ``update_*`` accept only the updatable fields listed in ``HOOK_UPDATABLE_FIELDS`` and
  ``WEBHOOK_UPDATABLE_FIELDS``.

``update_*``, ``delete_*`` and ``update_*_trigger_stats`` of an id that does not exist raise
``NotFoundError``; ``get_hook_config``/``get_webhook_config`` return ``None`` then.
Deleting a hook or webhook keeps its log rows (use ``clear_hook_logs``).

Trigger statistics are updated with single atomic SQL increments, so concurrent
deliveries never lose a count. Script output and error text longer than
``MAX_OUTPUT_CHARS`` is stored truncated.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, or_, select, update

from sublarr.core.db.engine import session_scope
from sublarr.core.db.models import HookConfig, HookLog, WebhookConfig, utcnow_iso
from sublarr.core.db.validators import (
    check_bool,
    check_event_name,
    check_fields,
    check_http_url,
    check_id,
    check_int,
    check_name,
    check_optional_id,
    check_optional_int,
    check_page,
    check_str,
)
from sublarr.core.errors import NotFoundError, ValidationError

__all__ = [
    "HOOK_TIMEOUT_RANGE",
    "HOOK_UPDATABLE_FIELDS",
    "RETRY_COUNT_RANGE",
    "WEBHOOK_TIMEOUT_RANGE",
    "WEBHOOK_UPDATABLE_FIELDS",
    "clear_hook_logs",
    "clear_old_hook_logs",
    "create_hook_config",
    "create_webhook_config",
    "delete_hook_config",
    "delete_webhook_config",
    "get_hook_config",
    "get_hook_configs",
    "get_hook_log_count",
    "get_hook_logs",
    "get_webhook_config",
    "get_webhook_configs",
    "log_hook_execution",
    "update_hook_config",
    "update_hook_trigger_stats",
    "update_webhook_config",
    "update_webhook_trigger_stats",
]

logger = logging.getLogger(__name__)

NAME_MAX_CHARS = 200
SCRIPT_PATH_MAX_CHARS = 4096
URL_MAX_CHARS = 2048
SECRET_MAX_CHARS = 1024
HOOK_TIMEOUT_RANGE = (1, 3600)
WEBHOOK_TIMEOUT_RANGE = (1, 300)
RETRY_COUNT_RANGE = (0, 10)
STATUS_CODE_RANGE = (0, 999)
EXIT_CODE_RANGE = (-(2**31), 2**31 - 1)
MAX_OUTPUT_CHARS = 65_536
MAX_LIST_LIMIT = 10_000
MAX_LOG_DAYS = 36_500
WILDCARD_EVENT = "*"

HOOK_UPDATABLE_FIELDS = frozenset({"name", "event_name", "script_path", "timeout_seconds", "enabled"})
WEBHOOK_UPDATABLE_FIELDS = frozenset(
    {"name", "event_name", "url", "secret", "enabled", "retry_count", "timeout_seconds"}
)

_HOOK_TYPE = re.compile(r"[a-z][a-z0-9_]*")


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_OUTPUT_CHARS else text[:MAX_OUTPUT_CHARS]


def _check_script_path(value: Any) -> str:
    path = check_str("script_path", value, SCRIPT_PATH_MAX_CHARS, allow_empty=False)
    if "\x00" in path:
        raise ValidationError("script_path", "must not contain NUL characters")
    return path


def _check_hook_field(field: str, value: Any) -> Any:
    if field == "name":
        return check_name("name", value, NAME_MAX_CHARS)
    if field == "event_name":
        return check_event_name("event_name", value, allow_wildcard=False)
    if field == "script_path":
        return _check_script_path(value)
    if field == "timeout_seconds":
        return check_int("timeout_seconds", value, *HOOK_TIMEOUT_RANGE)
    if field == "enabled":
        return int(check_bool("enabled", value))
    raise AssertionError(field)  # pragma: no cover - check_fields ran first


def _check_webhook_field(field: str, value: Any) -> Any:
    if field == "name":
        return check_name("name", value, NAME_MAX_CHARS)
    if field == "event_name":
        return check_event_name("event_name", value, allow_wildcard=True)
    if field == "url":
        return check_http_url("url", value, URL_MAX_CHARS)
    if field == "secret":
        return check_str("secret", value, SECRET_MAX_CHARS)
    if field == "retry_count":
        return check_int("retry_count", value, *RETRY_COUNT_RANGE)
    if field == "timeout_seconds":
        return check_int("timeout_seconds", value, *WEBHOOK_TIMEOUT_RANGE)
    if field == "enabled":
        return int(check_bool("enabled", value))
    raise AssertionError(field)  # pragma: no cover - check_fields ran first


def _list_configs(
    query: Select[Any], model: Any, enabled_only: Any, limit: Any, offset: Any
) -> list[dict[str, Any]]:
    enabled_only = check_bool("enabled_only", enabled_only)
    checked_limit, checked_offset = check_page(limit, offset, max_limit=MAX_LIST_LIMIT, allow_none=True)
    if enabled_only:
        query = query.where(model.enabled == 1)
    query = query.order_by(model.id).offset(checked_offset)
    if checked_limit is not None:
        query = query.limit(checked_limit)
    with session_scope() as session:
        return [row.as_dict() for row in session.scalars(query)]


def _update_row(model: Any, kind: str, record_id: int, values: dict[str, Any]) -> None:
    with session_scope() as session:
        result = session.execute(
            update(model).where(model.id == record_id).values(**values),
            execution_options={"synchronize_session": False},
        )
        if result.rowcount == 0:
            raise NotFoundError(f"{kind} {record_id} does not exist")


def _delete_row(model: Any, kind: str, record_id: int) -> None:
    with session_scope() as session:
        result = session.execute(
            delete(model).where(model.id == record_id),
            execution_options={"synchronize_session": False},
        )
        if result.rowcount == 0:
            raise NotFoundError(f"{kind} {record_id} does not exist")
    logger.info("deleted %s %d", kind, record_id)


# ---- script hooks ---------------------------------------------------------------------


def create_hook_config(
    name: str, event_name: str, script_path: str, timeout_seconds: int = 30
) -> dict[str, Any]:
    """Store a script hook run on ``event_name``; return the new record."""
    now = utcnow_iso()
    row = HookConfig(
        name=check_name("name", name, NAME_MAX_CHARS),
        event_name=check_event_name("event_name", event_name, allow_wildcard=False),
        script_path=_check_script_path(script_path),
        timeout_seconds=check_int("timeout_seconds", timeout_seconds, *HOOK_TIMEOUT_RANGE),
        created_at=now,
        updated_at=now,
    )
    with session_scope() as session:
        session.add(row)
        session.flush()
        record = row.as_dict()
    logger.info("created hook %d %r on %s", record["id"], record["name"], record["event_name"])
    return record


def get_hook_configs(
    event_name: str | None = None,
    *,
    enabled_only: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Stored hooks in id order, optionally only those of ``event_name`` and/or enabled."""
    query = select(HookConfig)
    if event_name is not None:
        query = query.where(HookConfig.event_name == check_str("event_name", event_name, NAME_MAX_CHARS))
    return _list_configs(query, HookConfig, enabled_only, limit, offset)


def get_hook_config(hook_id: int) -> dict[str, Any] | None:
    """The hook with id ``hook_id``, or ``None``."""
    hook_id = check_id("hook_id", hook_id)
    with session_scope() as session:
        row = session.get(HookConfig, hook_id)
        return row.as_dict() if row is not None else None


def update_hook_config(hook_id: int, **fields: Any) -> None:
    """Change the given fields of hook ``hook_id`` (see ``HOOK_UPDATABLE_FIELDS``)."""
    hook_id = check_id("hook_id", hook_id)
    check_fields("hook", fields, HOOK_UPDATABLE_FIELDS)
    values = {field: _check_hook_field(field, value) for field, value in fields.items()}
    values["updated_at"] = utcnow_iso()
    _update_row(HookConfig, "hook", hook_id, values)


def delete_hook_config(hook_id: int) -> None:
    """Delete hook ``hook_id``."""
    _delete_row(HookConfig, "hook", check_id("hook_id", hook_id))


# ---- webhooks --------------------------------------------------------------------------


def create_webhook_config(
    name: str,
    event_name: str,
    url: str,
    secret: str = "",
    retry_count: int = 3,
    timeout_seconds: int = 10,
) -> dict[str, Any]:
    """Store a webhook called on ``event_name`` (``*``: every event); return the new record."""
    now = utcnow_iso()
    row = WebhookConfig(
        name=check_name("name", name, NAME_MAX_CHARS),
        event_name=check_event_name("event_name", event_name, allow_wildcard=True),
        url=check_http_url("url", url, URL_MAX_CHARS),
        secret=check_str("secret", secret, SECRET_MAX_CHARS),
        retry_count=check_int("retry_count", retry_count, *RETRY_COUNT_RANGE),
        timeout_seconds=check_int("timeout_seconds", timeout_seconds, *WEBHOOK_TIMEOUT_RANGE),
        created_at=now,
        updated_at=now,
    )
    with session_scope() as session:
        session.add(row)
        session.flush()
        record = row.as_dict()
    logger.info("created webhook %d %r on %s", record["id"], record["name"], record["event_name"])
    return record


def get_webhook_configs(
    event_name: str | None = None,
    *,
    enabled_only: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Stored webhooks in id order; with ``event_name``, those of that event or of ``*``."""
    query = select(WebhookConfig)
    if event_name is not None:
        event_name = check_str("event_name", event_name, NAME_MAX_CHARS)
        query = query.where(
            or_(WebhookConfig.event_name == event_name, WebhookConfig.event_name == WILDCARD_EVENT)
        )
    return _list_configs(query, WebhookConfig, enabled_only, limit, offset)


def get_webhook_config(webhook_id: int) -> dict[str, Any] | None:
    """The webhook with id ``webhook_id``, or ``None``."""
    webhook_id = check_id("webhook_id", webhook_id)
    with session_scope() as session:
        row = session.get(WebhookConfig, webhook_id)
        return row.as_dict() if row is not None else None


def update_webhook_config(webhook_id: int, **fields: Any) -> None:
    """Change the given fields of webhook ``webhook_id`` (see ``WEBHOOK_UPDATABLE_FIELDS``)."""
    webhook_id = check_id("webhook_id", webhook_id)
    check_fields("webhook", fields, WEBHOOK_UPDATABLE_FIELDS)
    values = {field: _check_webhook_field(field, value) for field, value in fields.items()}
    values["updated_at"] = utcnow_iso()
    _update_row(WebhookConfig, "webhook", webhook_id, values)


def delete_webhook_config(webhook_id: int) -> None:
    """Delete webhook ``webhook_id``."""
    _delete_row(WebhookConfig, "webhook", check_id("webhook_id", webhook_id))


# ---- execution log ---------------------------------------------------------------------


def log_hook_execution(
    hook_id: int | None = None,
    webhook_id: int | None = None,
    event_name: str = "",
    hook_type: str = "",
    success: bool = False,
    exit_code: int | None = None,
    status_code: int | None = None,
    stdout: str = "",
    stderr: str = "",
    error: str = "",
    duration_ms: float = 0,
) -> dict[str, Any]:
    """Record one execution of a hook (``hook_id``) or webhook delivery (``webhook_id``).

    ``hook_type`` is a lower-case word such as ``script`` or ``webhook`` (or empty).
    Returns the stored log record.
    """
    if type(duration_ms) not in (int, float) or not 0 <= duration_ms < float("inf"):
        raise ValidationError("duration_ms", f"must be a number of milliseconds >= 0, got {duration_ms!r}")
    check_str("hook_type", hook_type, 50)
    if hook_type and not _HOOK_TYPE.fullmatch(hook_type):
        raise ValidationError("hook_type", f"{hook_type!r} must be a lower-case word like 'script'")
    row = HookLog(
        hook_id=check_optional_id("hook_id", hook_id),
        webhook_id=check_optional_id("webhook_id", webhook_id),
        event_name=check_str("event_name", event_name, NAME_MAX_CHARS),
        hook_type=hook_type,
        success=int(check_bool("success", success)),
        exit_code=check_optional_int("exit_code", exit_code, *EXIT_CODE_RANGE),
        status_code=check_optional_int("status_code", status_code, *STATUS_CODE_RANGE),
        stdout=_truncate(check_str("stdout", stdout, 2**31)),
        stderr=_truncate(check_str("stderr", stderr, 2**31)),
        error=_truncate(check_str("error", error, 2**31)),
        duration_ms=float(duration_ms),
    )
    with session_scope() as session:
        session.add(row)
        session.flush()
        return row.as_dict()


def _log_filter(hook_id: Any, webhook_id: Any) -> list[ColumnElement[bool]]:
    conditions = []
    if hook_id is not None:
        conditions.append(HookLog.hook_id == check_id("hook_id", hook_id))
    if webhook_id is not None:
        conditions.append(HookLog.webhook_id == check_id("webhook_id", webhook_id))
    return conditions


def get_hook_logs(
    hook_id: int | None = None, webhook_id: int | None = None, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    """Log records newest first, optionally of one hook and/or one webhook."""
    conditions = _log_filter(hook_id, webhook_id)
    checked_limit, checked_offset = check_page(limit, offset, max_limit=MAX_LIST_LIMIT, allow_none=False)
    query = (
        select(HookLog)
        .where(*conditions)
        .order_by(HookLog.triggered_at.desc(), HookLog.id.desc())
        .limit(checked_limit)
        .offset(checked_offset)
    )
    with session_scope() as session:
        return [row.as_dict() for row in session.scalars(query)]


def get_hook_log_count(hook_id: int | None = None, webhook_id: int | None = None) -> int:
    """How many log records there are (of one hook and/or one webhook)."""
    conditions = _log_filter(hook_id, webhook_id)
    with session_scope() as session:
        return int(session.scalar(select(func.count(HookLog.id)).where(*conditions)) or 0)


def clear_hook_logs(hook_id: int | None = None, webhook_id: int | None = None) -> int:
    """Delete the log records (of one hook and/or one webhook; all without filter); return how many."""
    conditions = _log_filter(hook_id, webhook_id)
    with session_scope() as session:
        result = session.execute(
            delete(HookLog).where(*conditions), execution_options={"synchronize_session": False}
        )
        count = int(result.rowcount or 0)
    logger.info("cleared %d hook log record(s)", count)
    return count


def clear_old_hook_logs(days: int) -> int:
    """Delete log records older than ``days`` days (0..36500); return how many."""
    days = check_int("days", days, 0, MAX_LOG_DAYS)
    cutoff = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="microseconds")
    with session_scope() as session:
        result = session.execute(
            delete(HookLog).where(HookLog.triggered_at < cutoff),
            execution_options={"synchronize_session": False},
        )
        count = int(result.rowcount or 0)
    logger.info("cleared %d hook log record(s) older than %d day(s)", count, days)
    return count


# ---- trigger statistics ----------------------------------------------------------------


def update_hook_trigger_stats(hook_id: int, success: bool) -> None:
    """Count one run of hook ``hook_id``: trigger_count + 1, last_triggered_at, last_status.

    ``last_status`` becomes ``"success"`` or ``"failed"``. ``updated_at`` (the time the
    configuration was last edited) is left alone.
    """
    hook_id = check_id("hook_id", hook_id)
    success = check_bool("success", success)
    _update_row(
        HookConfig,
        "hook",
        hook_id,
        {
            "trigger_count": func.coalesce(HookConfig.trigger_count, 0) + 1,
            "last_triggered_at": utcnow_iso(),
            "last_status": "success" if success else "failed",
        },
    )


def update_webhook_trigger_stats(
    webhook_id: int, success: bool, status_code: int = 0, error: str = ""
) -> None:
    """Count one delivery of webhook ``webhook_id``.

    trigger_count + 1, last_triggered_at, last_status_code and last_error are set;
    consecutive_failures goes back to 0 on success and up by 1 on failure (``last_error``
    is cleared on success).
    """
    webhook_id = check_id("webhook_id", webhook_id)
    success = check_bool("success", success)
    status_code = check_int("status_code", status_code, *STATUS_CODE_RANGE)
    error = _truncate(check_str("error", error, 2**31))
    failures: Any = 0 if success else func.coalesce(WebhookConfig.consecutive_failures, 0) + 1
    _update_row(
        WebhookConfig,
        "webhook",
        webhook_id,
        {
            "trigger_count": func.coalesce(WebhookConfig.trigger_count, 0) + 1,
            "consecutive_failures": failures,
            "last_triggered_at": utcnow_iso(),
            "last_status_code": status_code,
            "last_error": "" if success else error,
        },
    )
