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
``MAX_OUTPUT_CHARS`` is stored truncated, with NUL characters as U+FFFD
(``storable_text``), so what a script prints or a receiver answers can always be stored.

Script hooks and webhooks are two kinds of one thing, a delivery target: ``HOOKS`` and
``WEBHOOKS`` describe each kind's table and fields, and one set of functions
(``create_target``, ``get_target``, ``list_targets``, ``update_target``, ``delete_target``)
serves both; the plan's functions are thin names over them. The writers of ``hook_log``
(``write_log``) and of trigger statistics (``write_hook_stats``, ``write_webhook_stats``)
take a connection, so the delivery pipeline records an attempt with them inside its own
transaction.

Every committed change of a hook's or webhook's configuration made here changes
``config_generation()``; the delivery pipeline's subscription cache compares it.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, literal_column, or_, select, update

from sublarr.core.db.engine import get_engine
from sublarr.core.db.models import HookConfig, HookLog, WebhookConfig, utcnow_iso
from sublarr.core.db.prepared import insert_prepared, run_prepared
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
    "HOOKS",
    "HOOK_TIMEOUT_RANGE",
    "HOOK_UPDATABLE_FIELDS",
    "RETRY_COUNT_RANGE",
    "WEBHOOKS",
    "WEBHOOK_TIMEOUT_RANGE",
    "WEBHOOK_UPDATABLE_FIELDS",
    "TARGET_TABLES",
    "TargetTable",
    "clear_hook_logs",
    "clear_old_hook_logs",
    "config_generation",
    "create_hook_config",
    "create_target",
    "create_webhook_config",
    "delete_hook_config",
    "delete_target",
    "delete_webhook_config",
    "disable_webhook",
    "get_hook_config",
    "get_hook_configs",
    "get_hook_log_count",
    "get_hook_logs",
    "get_target",
    "get_webhook_config",
    "get_webhook_configs",
    "list_targets",
    "log_hook_execution",
    "mark_config_changed",
    "reset_webhook_failures",
    "storable_text",
    "update_hook_config",
    "update_hook_trigger_stats",
    "update_target",
    "update_webhook_config",
    "update_webhook_trigger_stats",
    "write_hook_stats",
    "write_log",
    "write_webhook_stats",
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

_HOOK_TYPE = re.compile(r"[a-z][a-z0-9_]*")


NUL_REPLACEMENT = "\ufffd"


def storable_text(text: str | None) -> str:
    """``text`` as the log and the delivery queue store it, on every database alike.

    At most ``MAX_OUTPUT_CHARS`` characters; each NUL character (which PostgreSQL cannot
    store in text) becomes U+FFFD, and a lone UTF-16 surrogate (no UTF-8 text) becomes
    ``?``. The one place text bound for ``hook_log`` and ``deliveries`` is made storable.
    """
    text = text or ""
    if len(text) > MAX_OUTPUT_CHARS:
        text = text[:MAX_OUTPUT_CHARS]
    if "\x00" in text:
        text = text.replace("\x00", NUL_REPLACEMENT)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


# ---- the two kinds of delivery target ------------------------------------------------------


@dataclass(frozen=True)
class TargetTable:
    """One kind of delivery target in storage: its table and the check of each updatable field."""

    kind: str  # "script" or "webhook": the delivery kind and the log's hook_type
    label: str  # "hook" or "webhook": in messages and ValidationError/NotFoundError text
    model: Any  # HookConfig or WebhookConfig
    checks: Mapping[str, Callable[[Any], Any]]  # updatable field -> check returning the stored value
    wildcard: bool  # whether event_name may be "*" (every event)
    create_args: tuple[str, ...]  # the arguments of the plan's create_* function, in order

    @property
    def table(self) -> Any:
        """The SQLAlchemy ``Table``."""
        return self.model.__table__

    @property
    def updatable(self) -> frozenset[str]:
        """The fields ``update_target`` accepts."""
        return frozenset(self.checks)

    def named(self, *values: Any) -> dict[str, Any]:
        """``values`` given in the order of ``create_args``, by field name."""
        return dict(zip(self.create_args, values, strict=True))

    def check(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """``fields`` checked, as they are stored; ``ValidationError`` names the first bad one."""
        check_fields(self.label, fields, self.updatable)
        return {field: self.checks[field](value) for field, value in fields.items()}


def _check_script_path(value: Any) -> str:
    path = check_str("script_path", value, SCRIPT_PATH_MAX_CHARS, allow_empty=False)
    if "\x00" in path:
        raise ValidationError("script_path", "must not contain NUL characters")
    return path


def _check_name(value: Any) -> str:
    return check_name("name", value, NAME_MAX_CHARS)


def _check_enabled(value: Any) -> int:
    return int(check_bool("enabled", value))


HOOKS = TargetTable(
    kind="script",
    label="hook",
    model=HookConfig,
    checks={
        "name": _check_name,
        "event_name": lambda value: check_event_name("event_name", value, allow_wildcard=False),
        "script_path": _check_script_path,
        "timeout_seconds": lambda value: check_int("timeout_seconds", value, *HOOK_TIMEOUT_RANGE),
        "enabled": _check_enabled,
    },
    wildcard=False,
    create_args=("name", "event_name", "script_path", "timeout_seconds"),
)
WEBHOOKS = TargetTable(
    kind="webhook",
    label="webhook",
    model=WebhookConfig,
    checks={
        "name": _check_name,
        "event_name": lambda value: check_event_name("event_name", value, allow_wildcard=True),
        "url": lambda value: check_http_url("url", value, URL_MAX_CHARS),
        "secret": lambda value: check_str("secret", value, SECRET_MAX_CHARS),
        "retry_count": lambda value: check_int("retry_count", value, *RETRY_COUNT_RANGE),
        "timeout_seconds": lambda value: check_int("timeout_seconds", value, *WEBHOOK_TIMEOUT_RANGE),
        "enabled": _check_enabled,
    },
    wildcard=True,
    create_args=("name", "event_name", "url", "secret", "retry_count", "timeout_seconds"),
)
TARGET_TABLES = {table.kind: table for table in (HOOKS, WEBHOOKS)}
HOOK_UPDATABLE_FIELDS = HOOKS.updatable
WEBHOOK_UPDATABLE_FIELDS = WEBHOOKS.updatable


# ---- change notice for caches --------------------------------------------------------------

_generation = 0
_generation_lock = threading.Lock()


def config_generation() -> int:
    """A number that changes after every committed change of a hook's or webhook's configuration."""
    return _generation


def mark_config_changed() -> None:
    """Say that hook or webhook configuration changed (call after the change is committed).

    The functions of this module call it themselves; code that changes a configuration any
    other way (the delivery pipeline disabling a webhook, webhook options) calls it too.
    """
    global _generation
    with _generation_lock:
        _generation += 1


# ---- one CRUD core for both kinds ----------------------------------------------------------


def _record(model: Any, row: Any) -> dict[str, Any]:
    """A result row as the record dict ``model.as_dict`` would give (0/1 flags as bool)."""
    record = dict(row._mapping)
    for column in model._bool_columns:
        if record.get(column) is not None:
            record[column] = bool(record[column])
    return record


def create_target(table: TargetTable, **fields: Any) -> dict[str, Any]:
    """Store a hook or webhook of ``fields`` (checked; the others take their default); return it."""
    values = table.check(fields)
    now = utcnow_iso()
    with get_engine().begin() as conn:
        row = conn.execute(
            insert(table.table).values(**values, created_at=now, updated_at=now).returning(*table.table.c)
        ).one()
    mark_config_changed()
    record = _record(table.model, row)
    logger.info("created %s %d %r on %s", table.label, record["id"], record["name"], record["event_name"])
    return record


def get_target(table: TargetTable, target_id: int) -> dict[str, Any] | None:
    """The hook or webhook with id ``target_id``, or ``None``."""
    target_id = check_id(f"{table.label}_id", target_id)
    with get_engine().connect() as conn:
        row = conn.execute(select(table.table).where(table.table.c.id == target_id)).first()
    return _record(table.model, row) if row is not None else None


def list_targets(
    table: TargetTable,
    event_name: str | None = None,
    *,
    enabled_only: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Stored hooks or webhooks in id order; with ``event_name``, those of it (and of ``*``)."""
    columns = table.table.c
    query = select(table.table)
    if event_name is not None:
        event_name = check_str("event_name", event_name, NAME_MAX_CHARS)
        match = columns.event_name == event_name
        query = query.where(or_(match, columns.event_name == WILDCARD_EVENT) if table.wildcard else match)
    if check_bool("enabled_only", enabled_only):
        query = query.where(columns.enabled == 1)
    checked_limit, checked_offset = check_page(limit, offset, max_limit=MAX_LIST_LIMIT, allow_none=True)
    query = query.order_by(columns.id).offset(checked_offset)
    if checked_limit is not None:
        query = query.limit(checked_limit)
    with get_engine().connect() as conn:
        return [_record(table.model, row) for row in conn.execute(query)]


def _update_row(conn: Connection, table: TargetTable, target_id: int, values: dict[str, Any]) -> None:
    """Update one row; ``NotFoundError`` when there is none."""
    result = conn.execute(update(table.table).where(table.table.c.id == target_id).values(**values))
    if result.rowcount == 0:
        raise NotFoundError(f"{table.label} {target_id} does not exist")


def update_target(table: TargetTable, target_id: int, **fields: Any) -> None:
    """Change the given fields (see ``table.updatable``) of a hook or webhook."""
    target_id = check_id(f"{table.label}_id", target_id)
    values = table.check(fields)
    with get_engine().begin() as conn:
        _update_row(conn, table, target_id, {**values, "updated_at": utcnow_iso()})
    mark_config_changed()


def delete_target(table: TargetTable, target_id: int) -> None:
    """Delete a hook or webhook (its log rows stay)."""
    target_id = check_id(f"{table.label}_id", target_id)
    with get_engine().begin() as conn:
        result = conn.execute(delete(table.table).where(table.table.c.id == target_id))
        if result.rowcount == 0:
            raise NotFoundError(f"{table.label} {target_id} does not exist")
    mark_config_changed()
    logger.info("deleted %s %d", table.label, target_id)


def reset_webhook_failures(webhook_id: int) -> None:
    """Set the failure count of webhook ``webhook_id`` back to 0 (it is being re-enabled)."""
    with get_engine().begin() as conn:
        _update_row(conn, WEBHOOKS, check_id("webhook_id", webhook_id), {"consecutive_failures": 0})
    mark_config_changed()


def disable_webhook(conn: Connection, webhook_id: int) -> None:
    """Disable webhook ``webhook_id`` inside the caller's transaction.

    The caller calls ``mark_config_changed()`` once the transaction is committed.
    """
    _update_row(conn, WEBHOOKS, webhook_id, {"enabled": 0})


# ---- script hooks and webhooks: the plan's names ---------------------------------------------


def create_hook_config(
    name: str, event_name: str, script_path: str, timeout_seconds: int = 30
) -> dict[str, Any]:
    """Store a script hook run on ``event_name``; return the new record."""
    return create_target(HOOKS, **HOOKS.named(name, event_name, script_path, timeout_seconds))


def get_hook_configs(
    event_name: str | None = None,
    *,
    enabled_only: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Stored hooks in id order, optionally only those of ``event_name`` and/or enabled."""
    return list_targets(HOOKS, event_name, enabled_only=enabled_only, limit=limit, offset=offset)


def get_hook_config(hook_id: int) -> dict[str, Any] | None:
    """The hook with id ``hook_id``, or ``None``."""
    return get_target(HOOKS, hook_id)


def update_hook_config(hook_id: int, **fields: Any) -> None:
    """Change the given fields of hook ``hook_id`` (see ``HOOK_UPDATABLE_FIELDS``)."""
    update_target(HOOKS, hook_id, **fields)


def delete_hook_config(hook_id: int) -> None:
    """Delete hook ``hook_id``."""
    delete_target(HOOKS, hook_id)


def create_webhook_config(
    name: str,
    event_name: str,
    url: str,
    secret: str = "",
    retry_count: int = 3,
    timeout_seconds: int = 10,
) -> dict[str, Any]:
    """Store a webhook called on ``event_name`` (``*``: every event); return the new record."""
    return create_target(
        WEBHOOKS, **WEBHOOKS.named(name, event_name, url, secret, retry_count, timeout_seconds)
    )


def get_webhook_configs(
    event_name: str | None = None,
    *,
    enabled_only: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Stored webhooks in id order; with ``event_name``, those of that event or of ``*``."""
    return list_targets(WEBHOOKS, event_name, enabled_only=enabled_only, limit=limit, offset=offset)


def get_webhook_config(webhook_id: int) -> dict[str, Any] | None:
    """The webhook with id ``webhook_id``, or ``None``."""
    return get_target(WEBHOOKS, webhook_id)


def update_webhook_config(webhook_id: int, **fields: Any) -> None:
    """Change the given fields of webhook ``webhook_id`` (see ``WEBHOOK_UPDATABLE_FIELDS``)."""
    update_target(WEBHOOKS, webhook_id, **fields)


def delete_webhook_config(webhook_id: int) -> None:
    """Delete webhook ``webhook_id``."""
    delete_target(WEBHOOKS, webhook_id)


# ---- execution log ---------------------------------------------------------------------


# The writers shared with the delivery pipeline run once per delivery: their statements are
# built once and run with ``run_prepared`` (see there for the figure that buys).
_LOG_FIELDS = (
    "hook_id", "webhook_id", "event_name", "hook_type", "success", "exit_code", "status_code",
    "stdout", "stderr", "error", "duration_ms", "triggered_at", "delivery_id",
)  # fmt: skip
_LOG = HookLog.__table__
# SQLite gives the new id as the cursor's lastrowid (see insert_prepared); PostgreSQL returns it.
_LOG_INSERT = insert(_LOG).values({name: bindparam(name) for name in _LOG_FIELDS})
_LOG_INSERT_RETURNING_ID = _LOG_INSERT.returning(_LOG.c.id)
_LOG_COLUMNS = tuple(_LOG.c.keys())


def write_log(
    conn: Connection,
    *,
    hook_id: int | None,
    webhook_id: int | None,
    event_name: str,
    hook_type: str,
    success: bool,
    exit_code: int | None,
    status_code: int | None,
    stdout: str,
    stderr: str,
    error: str,
    duration_ms: float,
    delivery_id: str | None = None,
) -> dict[str, Any]:
    """Insert one ``hook_log`` row (texts truncated) inside the caller's transaction; return it.

    The only writer of ``hook_log``: values are not checked here (``log_hook_execution``
    checks what users pass; the delivery pipeline passes what it measured).
    """
    values: dict[str, Any] = {
        "hook_id": hook_id,
        "webhook_id": webhook_id,
        "event_name": event_name,
        "hook_type": hook_type,
        "success": int(success),
        "exit_code": exit_code,
        "status_code": status_code,
        "stdout": storable_text(stdout),
        "stderr": storable_text(stderr),
        "error": storable_text(error),
        "duration_ms": float(duration_ms),
        "triggered_at": utcnow_iso(),
        "delivery_id": delivery_id,
    }
    statement = _LOG_INSERT if conn.dialect.name == "sqlite" else _LOG_INSERT_RETURNING_ID
    values["id"] = insert_prepared(conn, statement, values)
    record = {name: values[name] for name in _LOG_COLUMNS}  # what was stored, in column order
    record["success"] = bool(record["success"])
    return record


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
    values: dict[str, Any] = {
        "hook_id": check_optional_id("hook_id", hook_id),
        "webhook_id": check_optional_id("webhook_id", webhook_id),
        "event_name": check_str("event_name", event_name, NAME_MAX_CHARS),
        "hook_type": hook_type,
        "success": check_bool("success", success),
        "exit_code": check_optional_int("exit_code", exit_code, *EXIT_CODE_RANGE),
        "status_code": check_optional_int("status_code", status_code, *STATUS_CODE_RANGE),
        "stdout": check_str("stdout", stdout, 2**31),
        "stderr": check_str("stderr", stderr, 2**31),
        "error": check_str("error", error, 2**31),
        "duration_ms": duration_ms,
    }
    with get_engine().begin() as conn:
        return write_log(conn, **values)


def _log_filter(
    hook_id: Any,
    webhook_id: Any,
    event_name: Any = None,
    success: Any = None,
    delivery_id: Any = None,
) -> list[Any]:
    """The WHERE terms of a log query; each filter given narrows it (they combine with AND)."""
    conditions = []
    if hook_id is not None:
        conditions.append(HookLog.hook_id == check_id("hook_id", hook_id))
    if webhook_id is not None:
        conditions.append(HookLog.webhook_id == check_id("webhook_id", webhook_id))
    if event_name is not None:
        conditions.append(HookLog.event_name == check_str("event_name", event_name, NAME_MAX_CHARS))
    if success is not None:
        # A literal, so failures are read from the partial index ix_hook_log_success.
        conditions.append(HookLog.success == literal_column("1" if check_bool("success", success) else "0"))
    if delivery_id is not None:
        conditions.append(HookLog.delivery_id == check_str("delivery_id", delivery_id, NAME_MAX_CHARS))
    return conditions


def get_hook_logs(
    hook_id: int | None = None,
    webhook_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
    *,
    before_id: int | None = None,
    event_name: str | None = None,
    success: bool | None = None,
    delivery_id: str | None = None,
) -> list[dict[str, Any]]:
    """Log records newest first (highest id first), optionally filtered; each filter narrows.

    ``before_id`` pages by cursor: only records with a smaller id (the id of the last
    record of the previous page), so a page costs the same however deep in the log, and
    records logged meanwhile never shift a page. ``offset`` still works but costs time
    proportional to it.
    """
    conditions = _log_filter(hook_id, webhook_id, event_name, success, delivery_id)
    if before_id is not None:
        conditions.append(HookLog.id < check_int("before_id", before_id, 0, 2**62))
    checked_limit, checked_offset = check_page(limit, offset, max_limit=MAX_LIST_LIMIT, allow_none=False)
    query = select(_LOG).where(*conditions).order_by(HookLog.id.desc()).limit(checked_limit)
    if checked_offset:
        query = query.offset(checked_offset)
    with get_engine().connect() as conn:
        return [_record(HookLog, row) for row in conn.execute(query)]


def get_hook_log_count(
    hook_id: int | None = None,
    webhook_id: int | None = None,
    *,
    event_name: str | None = None,
    success: bool | None = None,
    delivery_id: str | None = None,
) -> int:
    """How many log records there are (matching the filters, as ``get_hook_logs``).

    Counting reads every matching record: ask for it only when the number is needed.
    """
    conditions = _log_filter(hook_id, webhook_id, event_name, success, delivery_id)
    with get_engine().connect() as conn:
        return int(conn.execute(select(func.count()).select_from(_LOG).where(*conditions)).scalar() or 0)


_CURSOR_PREFIX = "log:"


def log_cursor(log_id: int) -> str:
    """The opaque cursor of the page after the record ``log_id`` (see ``parse_log_cursor``)."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{int(log_id)}".encode()).decode("ascii").rstrip("=")


def parse_log_cursor(cursor: str) -> int:
    """The record id a cursor of ``log_cursor`` names; ``ValidationError`` for anything else."""
    refused = ValidationError("cursor", "is not a cursor of this log (use next_cursor of a previous page)")
    if not isinstance(cursor, str) or not 0 < len(cursor) <= 64:
        raise refused
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raise refused from None
    number = text.removeprefix(_CURSOR_PREFIX)
    if not text.startswith(_CURSOR_PREFIX) or not number.isdigit() or len(number) > 18:
        raise refused
    if log_cursor(int(number)) != cursor:  # only the spelling log_cursor makes
        raise refused
    return int(number)


def _delete_logs(*conditions: Any) -> int:
    with get_engine().begin() as conn:
        return int(conn.execute(delete(HookLog).where(*conditions)).rowcount or 0)


def clear_hook_logs(hook_id: int | None = None, webhook_id: int | None = None) -> int:
    """Delete the log records (of one hook and/or one webhook; all without filter); return how many."""
    count = _delete_logs(*_log_filter(hook_id, webhook_id))
    logger.info("cleared %d hook log record(s)", count)
    return count


def clear_old_hook_logs(days: int) -> int:
    """Delete log records older than ``days`` days (0..36500); return how many."""
    days = check_int("days", days, 0, MAX_LOG_DAYS)
    cutoff = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="microseconds")
    count = _delete_logs(HookLog.triggered_at < cutoff)
    logger.info("cleared %d hook log record(s) older than %d day(s)", count, days)
    return count


# ---- trigger statistics ----------------------------------------------------------------


_HC = HookConfig.__table__
_WC = WebhookConfig.__table__
_HOOK_STATS = (
    update(_HC)
    .where(_HC.c.id == bindparam("b_id"))
    .values(
        trigger_count=func.coalesce(_HC.c.trigger_count, 0) + 1,
        last_triggered_at=bindparam("b_now"),
        last_status=bindparam("b_status"),
    )
)


def _webhook_stats(failures: Any) -> Any:
    values: dict[str, Any] = {
        "trigger_count": func.coalesce(_WC.c.trigger_count, 0) + 1,
        "last_triggered_at": bindparam("b_now"),
        "last_status_code": bindparam("b_code"),
        "last_error": bindparam("b_error"),
    }
    if failures is not None:
        values["consecutive_failures"] = failures
    return (
        update(_WC)
        .where(_WC.c.id == bindparam("b_id"))
        .values(**values)
        .returning(_WC.c.consecutive_failures, _WC.c.enabled)
    )


# By (count_failure, success): a final attempt resets the failure count on success and adds
# one on failure; one followed by a retry leaves it alone.
_WEBHOOK_STATS = {
    (False, True): _webhook_stats(None),
    (False, False): _webhook_stats(None),
    (True, True): _webhook_stats(0),
    (True, False): _webhook_stats(func.coalesce(_WC.c.consecutive_failures, 0) + 1),
}


def write_hook_stats(conn: Connection, hook_id: int, success: bool) -> bool:
    """Count one run of hook ``hook_id`` inside the caller's transaction; ``False`` if there is none."""
    _, count = run_prepared(
        conn,
        _HOOK_STATS,
        {"b_id": hook_id, "b_now": utcnow_iso(), "b_status": "success" if success else "failed"},
    )
    return count > 0


def write_webhook_stats(
    conn: Connection,
    webhook_id: int,
    success: bool,
    status_code: int,
    error: str,
    *,
    count_failure: bool = True,
) -> tuple[int, bool] | None:
    """Count one delivery attempt of webhook ``webhook_id`` inside the caller's transaction.

    ``count_failure``: the delivery is over, so ``consecutive_failures`` goes back to 0 on
    success and up by 1 on failure; otherwise (a retry follows) it is left alone. Returns
    the webhook's ``(consecutive_failures, enabled)`` afterwards, ``None`` if there is none.
    """
    rows, _ = run_prepared(
        conn,
        _WEBHOOK_STATS[(bool(count_failure), bool(success))],
        {
            "b_id": webhook_id,
            "b_now": utcnow_iso(),
            "b_code": status_code,
            "b_error": "" if success else storable_text(error),
        },
    )
    return (int(rows[0][0] or 0), bool(rows[0][1])) if rows else None


def update_hook_trigger_stats(hook_id: int, success: bool) -> None:
    """Count one run of hook ``hook_id``: trigger_count + 1, last_triggered_at, last_status.

    ``last_status`` becomes ``"success"`` or ``"failed"``. ``updated_at`` (the time the
    configuration was last edited) is left alone.
    """
    hook_id = check_id("hook_id", hook_id)
    success = check_bool("success", success)
    with get_engine().begin() as conn:
        if not write_hook_stats(conn, hook_id, success):
            raise NotFoundError(f"hook {hook_id} does not exist")


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
    error = check_str("error", error, 2**31)
    with get_engine().begin() as conn:
        if write_webhook_stats(conn, webhook_id, success, status_code, error) is None:
            raise NotFoundError(f"webhook {webhook_id} does not exist")
