"""The durable delivery queue (``deliveries``) and webhook options (``webhook_options``).

A delivery is one run of one script hook or webhook for one event. Its life:

* ``enqueue_deliveries`` writes the rows of one event in one transaction (``pending``).
* ``claim_deliveries`` atomically moves due ``pending`` rows to ``running`` for a worker
  pool (``claimed_by``) until ``lease_until``: ``UPDATE ... WHERE id IN (SELECT ... FOR
  UPDATE SKIP LOCKED) RETURNING`` on PostgreSQL; the same single UPDATE statement (atomic
  in SQLite, which has one writer at a time) on SQLite.
* ``record_attempt`` writes, in one transaction, the ``hook_log`` row of the attempt, the
  hook's or webhook's trigger statistics, the delivery's new state (``delivered``,
  ``failed``, ``skipped`` or back to ``pending`` with a later ``next_attempt_at`` for a
  retry), and disables a webhook that answered 410 or reached the failure threshold.
* Rows whose lease ran out (their pool died) go back to ``pending`` with
  ``release_expired``; ``release_dead_owners`` does it at once for pools of dead processes
  on this host; ``release_owner`` for a pool stopping gracefully.

A delivery keeps its id across attempts and restarts: it is the ``webhook-id`` receivers
de-duplicate on (delivery is at-least-once).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update

from sublarr.core.db.engine import get_engine
from sublarr.core.db.models import Delivery, HookConfig, HookLog, WebhookConfig, WebhookOption, utcnow_iso
from sublarr.core.errors import ValidationError

logger = logging.getLogger(__name__)

KINDS = ("script", "webhook")
FINISHED = ("delivered", "failed", "skipped")
WILDCARD_EVENT = "*"
# Events a ``*`` webhook does not get: the meta-event about deliveries themselves.
WILDCARD_EXCLUDED = frozenset({"hook_executed"})
MAX_LOG_CHARS = 65_536

_COLUMNS = tuple(Delivery.__table__.columns)

# Hot-path statements are built once with bind parameters: SQLAlchemy then reuses their
# compiled form, and a delivery costs the database work, not statement construction.
_D = Delivery.__table__
_HC = HookConfig.__table__
_WC = WebhookConfig.__table__
_WO = WebhookOption.__table__
_LOG = HookLog.__table__

_ENQUEUE_FIELDS = (
    "id", "kind", "target_id", "event_name", "event_id", "event_timestamp", "payload", "status",
    "attempts", "next_attempt_at", "last_error", "created_at",
)  # fmt: skip
_DUE = (
    select(_D.c.id)
    .where(_D.c.status == "pending", _D.c.next_attempt_at <= bindparam("b_now"))
    .order_by(_D.c.next_attempt_at, _D.c.id)
    .limit(bindparam("b_limit"))
)
_CLAIM_VALUES = {"status": "running", "claimed_by": bindparam("b_owner"), "lease_until": bindparam("b_lease")}
_CLAIM_SQLITE = (
    update(_D)
    .where(_D.c.id.in_(_DUE.scalar_subquery()), _D.c.status == "pending")
    .values(**_CLAIM_VALUES)
    .returning(*_COLUMNS)
)
_LOCKED = _DUE.with_for_update(skip_locked=True).cte("due")
_CLAIM_POSTGRES = (
    update(_D)
    .where(_D.c.id == _LOCKED.c.id, _D.c.status == "pending")
    .values(**_CLAIM_VALUES)
    .returning(*_COLUMNS)
)
_LOAD_HOOK = select(_HC).where(_HC.c.id == bindparam("b_id"))
_LOAD_WEBHOOK = (
    select(_WC, _WO.c.method, _WO.c.headers, _WO.c.disabled_reason)
    .select_from(_WC.outerjoin(_WO, _WO.c.webhook_id == _WC.c.id))
    .where(_WC.c.id == bindparam("b_id"))
)
_LOG_FIELDS = (
    "hook_id", "webhook_id", "event_name", "hook_type", "success", "exit_code", "status_code",
    "stdout", "stderr", "error", "duration_ms", "triggered_at",
)  # fmt: skip
_LOG_INSERT = insert(_LOG).values({name: bindparam(f"v_{name}") for name in _LOG_FIELDS}).returning(_LOG.c.id)
_HOOK_STATS = (
    update(_HC)
    .where(_HC.c.id == bindparam("b_id"))
    .values(
        trigger_count=func.coalesce(_HC.c.trigger_count, 0) + 1,
        last_triggered_at=bindparam("b_now"),
        last_status=bindparam("b_status"),
    )
)
_WEBHOOK_STATS_VALUES = {
    "trigger_count": func.coalesce(_WC.c.trigger_count, 0) + 1,
    "last_triggered_at": bindparam("b_now"),
    "last_status_code": bindparam("b_code"),
    "last_error": bindparam("b_error"),
}


_compiled: dict[tuple[int, str], tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}


@dataclass
class _RawResult:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    rowcount: int

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]


def _bind(order: tuple[str, ...] | None, defaults: dict[str, Any], params: dict[str, Any]) -> Any:
    if order is None:
        return {**defaults, **params}
    return tuple(params[name] if name in params else defaults[name] for name in order)


def _raw(conn: Any, statement: Any, params: Any, *, many: bool = False) -> _RawResult:
    """Run a prebuilt statement on the DBAPI cursor of ``conn`` (inside its transaction).

    The statement is compiled once per dialect; this skips SQLAlchemy's per-execution work,
    which is most of the cost of the small statements a delivery needs.
    """
    key = (id(statement), conn.dialect.name)
    entry = _compiled.get(key)
    if entry is None:
        compiled = statement.compile(dialect=conn.dialect)
        entry = (str(compiled), compiled.positiontup, dict(compiled.params))
        _compiled[key] = entry
    sql, order, defaults = entry
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        if many:
            cursor.executemany(sql, [_bind(order, defaults, p) for p in params])
        else:
            cursor.execute(sql, _bind(order, defaults, params))
        columns = tuple(d[0] for d in cursor.description) if cursor.description else ()
        rows = list(cursor.fetchall()) if columns else []
        return _RawResult(columns, rows, cursor.rowcount)
    finally:
        cursor.close()


_INSERT_CHUNK = 500
_insert_sql: dict[tuple[str, int], str] = {}


def _insert_rows(conn: Any, rows: list[dict[str, Any]]) -> None:
    """Insert delivery rows with one multi-row INSERT per 500 rows.

    One statement, not one per row: the database driver releases the GIL once per
    statement, and under load every release can cost a wait for the GIL.
    """
    placeholder = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        for start in range(0, len(rows), _INSERT_CHUNK):
            chunk = rows[start : start + _INSERT_CHUNK]
            key = (placeholder, len(chunk))
            sql = _insert_sql.get(key)
            if sql is None:
                group = "(" + ", ".join([placeholder] * len(_ENQUEUE_FIELDS)) + ")"
                sql = f"INSERT INTO deliveries ({', '.join(_ENQUEUE_FIELDS)}) VALUES " + ", ".join(
                    [group] * len(chunk)
                )
                _insert_sql[key] = sql
            cursor.execute(sql, [row[name] for row in chunk for name in _ENQUEUE_FIELDS])
    finally:
        cursor.close()


def _webhook_stats(failures: Any) -> Any:
    values = dict(_WEBHOOK_STATS_VALUES)
    if failures is not None:
        values["consecutive_failures"] = failures
    return (
        update(_WC)
        .where(_WC.c.id == bindparam("b_id"))
        .values(**values)
        .returning(_WC.c.consecutive_failures, _WC.c.enabled)
    )


# An attempt that is not the last one leaves the failure count alone; a final one resets
# it on success and adds one on failure.
_WEBHOOK_STATS = {
    None: _webhook_stats(None),
    True: _webhook_stats(0),
    False: _webhook_stats(func.coalesce(_WC.c.consecutive_failures, 0) + 1),
}
_FINISH = {
    (outcome_pending, with_owner): update(_D)
    .where(
        _D.c.id == bindparam("b_id"),
        *((_D.c.claimed_by == bindparam("b_owner"),) if with_owner else ()),
    )
    .values(
        status=bindparam("b_status"),
        attempts=_D.c.attempts + 1,
        claimed_by=None,
        lease_until=None,
        last_error=bindparam("b_error"),
        **(
            {"next_attempt_at": bindparam("b_next")}
            if outcome_pending
            else {"finished_at": bindparam("b_now")}
        ),
    )
    for outcome_pending in (True, False)
    for with_owner in (True, False)
}


class _WriterLock:
    """The process's SQLite write lock, where ``emit_event``'s enqueue goes before the workers.

    An urgent writer (queueing an event's deliveries) waits only for the transaction in
    progress; workers recording results step aside while one is waiting.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._urgent = 0
        self._count = threading.Lock()

    @contextmanager
    def hold(self, urgent: bool) -> Iterator[None]:
        if urgent:
            with self._count:
                self._urgent += 1
            try:
                self._lock.acquire()
            finally:
                with self._count:
                    self._urgent -= 1
        else:
            while True:
                self._lock.acquire()
                if not self._urgent:
                    break
                self._lock.release()
                time.sleep(0.0001)  # let the waiting enqueue in first
        try:
            yield
        finally:
            self._lock.release()


_sqlite_writer = _WriterLock()


@contextmanager
def write_transaction(urgent: bool = False) -> Iterator[Any]:
    """A connection in a transaction that writes; on SQLite, one such transaction per process at a time.

    SQLite has one writer; threads that collide inside SQLite wait in its busy handler, which
    sleeps in steps of milliseconds. Queueing them on a lock here first is much faster.
    ``urgent`` writers (enqueueing from ``emit_event``) go first.
    """
    engine = get_engine()
    if engine.dialect.name == "sqlite":
        with _sqlite_writer.hold(urgent), engine.begin() as conn:
            yield conn
    else:
        with engine.begin() as conn:
            yield conn


def new_delivery_id() -> str:
    """A fresh delivery id, ``msg_<32 hex>``: creation time in ns, then 64 random bits.

    Time-ordered ids land at the end of the primary-key index instead of all over it, so
    queueing an event for many subscribers writes a few pages, not one per row.
    """
    return f"msg_{time.time_ns():016x}{secrets.token_hex(8)}"


def _new_delivery_ids(count: int) -> list[str]:
    """``count`` ids as ``new_delivery_id`` makes them, from one read of the random source.

    ``os.urandom`` releases the GIL on every call; under load each release can cost a wait
    to get it back, so an event queued for many subscribers reads its randomness once.
    """
    random_hex = os.urandom(8 * count).hex()
    return [f"msg_{time.time_ns():016x}{random_hex[16 * n : 16 * n + 16]}" for n in range(count)]


def pool_owner_id() -> str:
    """An id for a worker pool: ``<host>:<pid>:<random>``, so dead local pools can be found."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _row(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


# ---- subscriptions ---------------------------------------------------------------------


def subscribers(event_name: str) -> tuple[list[int], list[int]]:
    """Ids of the enabled hooks and webhooks subscribed to ``event_name`` (webhooks: or ``*``)."""
    engine = get_engine()
    webhook_match = WebhookConfig.event_name == event_name
    if event_name not in WILDCARD_EXCLUDED:
        webhook_match = or_(webhook_match, WebhookConfig.event_name == WILDCARD_EVENT)
    with engine.connect() as conn:
        hooks = (
            conn.execute(
                select(HookConfig.id)
                .where(HookConfig.event_name == event_name, HookConfig.enabled == 1)
                .order_by(HookConfig.id)
            )
            .scalars()
            .all()
        )
        webhooks = (
            conn.execute(
                select(WebhookConfig.id)
                .where(webhook_match, WebhookConfig.enabled == 1)
                .order_by(WebhookConfig.id)
            )
            .scalars()
            .all()
        )
    return list(hooks), list(webhooks)


# ---- enqueue and claim -----------------------------------------------------------------


def enqueue_deliveries(
    targets: Iterable[tuple[str, int]],
    event_name: str,
    event_id: str,
    event_timestamp: str,
    payload_json: str,
    *,
    delay: float = 0.0,
) -> list[str]:
    """Queue one delivery per ``(kind, target_id)`` in one transaction; return their ids."""
    now = time.time()
    created = utcnow_iso()
    targets = list(targets)
    ids = _new_delivery_ids(len(targets))
    rows = []
    for delivery_id, (kind, target_id) in zip(ids, targets):
        if kind not in KINDS:
            raise ValidationError("kind", f"must be one of {KINDS}, got {kind!r}")
        rows.append(
            {
                "id": delivery_id,
                "kind": kind,
                "target_id": int(target_id),
                "event_name": event_name,
                "event_id": event_id,
                "event_timestamp": event_timestamp,
                "payload": payload_json,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now + delay,
                "last_error": "",
                "created_at": created,
            }
        )
    if not rows:
        return []
    with write_transaction(urgent=True) as conn:
        _insert_rows(conn, rows)
    return [r["id"] for r in rows]


def claim_deliveries(
    owner: str, limit: int, lease_seconds: float, now: float | None = None
) -> list[dict[str, Any]]:
    """Claim up to ``limit`` due pending deliveries for ``owner``; return them (oldest due first)."""
    if limit <= 0:
        return []
    now = time.time() if now is None else now
    # PostgreSQL: a locking CTE runs once (an IN (subquery) may be re-run per row and claim
    # too many) and skips rows other pools hold. SQLite has one writer at a time, so the
    # single UPDATE statement is the atomic claim.
    statement = _CLAIM_POSTGRES if get_engine().dialect.name == "postgresql" else _CLAIM_SQLITE
    params = {"b_now": now, "b_limit": int(limit), "b_owner": owner, "b_lease": now + lease_seconds}
    with write_transaction() as conn:
        rows = _raw(conn, statement, params).dicts()
    rows.sort(key=lambda r: (r["next_attempt_at"], r["id"]))
    return rows


def next_due_at() -> float | None:
    """When the earliest pending delivery becomes due (Unix seconds), or ``None``."""
    with get_engine().connect() as conn:
        return conn.execute(
            select(func.min(Delivery.next_attempt_at)).where(Delivery.status == "pending")
        ).scalar()


def renew_leases(owner: str, lease_seconds: float) -> int:
    """Extend the lease of every delivery ``owner`` is running; return how many."""
    with write_transaction() as conn:
        result = conn.execute(
            update(Delivery)
            .where(Delivery.claimed_by == owner, Delivery.status == "running")
            .values(lease_until=time.time() + lease_seconds)
        )
        return int(result.rowcount or 0)


def _release(conn: Any, *conditions: Any) -> int:
    result = conn.execute(
        update(Delivery)
        .where(Delivery.status == "running", *conditions)
        .values(status="pending", claimed_by=None, lease_until=None)
    )
    return int(result.rowcount or 0)


def release_expired(now: float | None = None) -> int:
    """Put running deliveries whose lease ran out back to pending; return how many."""
    now = time.time() if now is None else now
    with write_transaction() as conn:
        count = _release(conn, Delivery.lease_until < now)
    if count:
        logger.warning("%d delivery(ies) whose worker stopped renewing its lease are pending again", count)
    return count


def reschedule(delivery_id: str, owner: str, delay: float, error: str) -> None:
    """Put a claimed delivery back to pending ``delay`` seconds from now, noting ``error``."""
    with write_transaction() as conn:
        conn.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.claimed_by == owner, Delivery.status == "running")
            .values(
                status="pending",
                claimed_by=None,
                lease_until=None,
                next_attempt_at=time.time() + delay,
                last_error=_clip(error),
            )
        )


def release_owner(owner: str, ids: Sequence[str] | None = None) -> int:
    """Put deliveries ``owner`` claimed (only ``ids``, if given) back to pending; return how many."""
    conditions = [Delivery.claimed_by == owner]
    if ids is not None:
        if not ids:
            return 0
        conditions.append(Delivery.id.in_(list(ids)))
    with write_transaction() as conn:
        return _release(conn, *conditions)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_dead_owners() -> int:
    """Release at once the deliveries claimed by pools of processes on this host that died."""
    host = socket.gethostname()
    with get_engine().connect() as conn:
        owners = (
            conn.execute(select(Delivery.claimed_by).where(Delivery.status == "running").distinct())
            .scalars()
            .all()
        )
    dead = []
    for owner in owners:
        parts = (owner or "").rsplit(":", 2)
        if len(parts) == 3 and parts[0] == host and parts[1].isdigit():
            pid = int(parts[1])
            if pid != os.getpid() and not _pid_alive(pid):
                dead.append(owner)
    if not dead:
        return 0
    with write_transaction() as conn:
        count = _release(conn, Delivery.claimed_by.in_(dead))
    logger.warning("%d delivery(ies) of %d dead worker pool(s) are pending again", count, len(dead))
    return count


# ---- targets and options ---------------------------------------------------------------


def load_target(kind: str, target_id: int) -> dict[str, Any] | None:
    """The hook (``script``) or webhook (with its options) a delivery runs, or ``None`` if deleted."""
    with get_engine().connect() as conn:
        if kind == "script":
            row = conn.execute(_LOAD_HOOK, {"b_id": target_id}).first()
            if row is None:
                return None
            record = _row(row)
            record["enabled"] = bool(record["enabled"])
            return record
        row = conn.execute(_LOAD_WEBHOOK, {"b_id": target_id}).first()
    if row is None:
        return None
    record = _row(row)
    record["enabled"] = bool(record["enabled"])
    record["method"] = record["method"] or "POST"
    record["headers"] = json.loads(record["headers"] or "{}")
    record["disabled_reason"] = record["disabled_reason"] or ""
    return record


def get_webhook_options(webhook_id: int) -> dict[str, Any]:
    """``{"method", "headers", "disabled_reason"}`` of a webhook (defaults when never set)."""
    with get_engine().connect() as conn:
        row = conn.execute(select(WebhookOption).where(WebhookOption.webhook_id == webhook_id)).first()
    if row is None:
        return {"method": "POST", "headers": {}, "disabled_reason": ""}
    return {
        "method": row.method,
        "headers": json.loads(row.headers or "{}"),
        "disabled_reason": row.disabled_reason,
    }


def _upsert_options(conn: Any, webhook_id: int, values: dict[str, Any]) -> None:
    result = conn.execute(
        update(WebhookOption).where(WebhookOption.webhook_id == webhook_id).values(**values)
    )
    if not result.rowcount:
        conn.execute(insert(WebhookOption).values(webhook_id=webhook_id, **values))


def set_webhook_options(
    webhook_id: int,
    *,
    method: str | None = None,
    headers: dict[str, str] | None = None,
    disabled_reason: str | None = None,
) -> None:
    """Store the given options of webhook ``webhook_id`` (the others keep their value)."""
    values: dict[str, Any] = {}
    if method is not None:
        values["method"] = method
    if headers is not None:
        values["headers"] = json.dumps(headers, sort_keys=True)
    if disabled_reason is not None:
        values["disabled_reason"] = disabled_reason
    if values:
        with write_transaction() as conn:
            _upsert_options(conn, webhook_id, values)


# ---- recording attempts ----------------------------------------------------------------


@dataclass
class AttemptRecord:
    """What ``record_attempt`` changed: the webhook's failure count and whether it got disabled."""

    log_id: int | None
    consecutive_failures: int = 0
    disabled: bool = False
    disabled_reason: str = ""


def _clip(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= MAX_LOG_CHARS else text[:MAX_LOG_CHARS]


def record_attempt(
    *,
    delivery_id: str | None,
    owner: str | None,
    kind: str,
    target_id: int,
    event_name: str,
    success: bool,
    exit_code: int | None = None,
    status_code: int | None = None,
    stdout: str = "",
    stderr: str = "",
    error: str = "",
    duration_ms: float = 0.0,
    outcome: str,
    next_attempt_at: float | None = None,
    update_stats: bool = True,
    final: bool = True,
    disable_reason: str = "",
    failure_threshold: int = 0,
) -> AttemptRecord:
    """Write one attempt: log row, statistics, delivery state, auto-disable; one transaction.

    ``outcome`` is the delivery's new status (``delivered``, ``failed``, ``skipped``, or
    ``pending`` with ``next_attempt_at`` for a retry). ``final`` says the delivery is over,
    so a webhook's ``consecutive_failures`` moves (reset on success, +1 on failure).
    ``disable_reason`` disables the webhook now (410); otherwise it is disabled when
    ``consecutive_failures`` reaches ``failure_threshold`` (0: never).
    """
    now_iso = utcnow_iso()
    record = AttemptRecord(log_id=None)
    with write_transaction() as conn:
        result = _raw(
            conn,
            _LOG_INSERT,
            {
                "v_hook_id": target_id if kind == "script" else None,
                "v_webhook_id": target_id if kind == "webhook" else None,
                "v_event_name": event_name,
                "v_hook_type": kind,
                "v_success": int(success),
                "v_exit_code": exit_code,
                "v_status_code": status_code,
                "v_stdout": _clip(stdout),
                "v_stderr": _clip(stderr),
                "v_error": _clip(error),
                "v_duration_ms": float(duration_ms),
                "v_triggered_at": now_iso,
            },
        )
        record.log_id = result.rows[0][0] if result.rows else None
        if update_stats and kind == "script":
            _raw(
                conn,
                _HOOK_STATS,
                {"b_id": target_id, "b_now": now_iso, "b_status": "success" if success else "failed"},
            )
        elif update_stats and kind == "webhook":
            stats = _raw(
                conn,
                _WEBHOOK_STATS[bool(success) if final else None],
                {
                    "b_id": target_id,
                    "b_now": now_iso,
                    "b_code": status_code or 0,
                    "b_error": "" if success else _clip(error),
                },
            )
            if stats.rows:
                failures, enabled = stats.rows[0]
                record.consecutive_failures = int(failures or 0)
                reason = disable_reason
                if (
                    not reason
                    and final
                    and failure_threshold
                    and record.consecutive_failures >= failure_threshold
                ):
                    reason = f"{record.consecutive_failures} deliveries in a row failed"
                if reason and enabled:
                    conn.execute(update(_WC).where(_WC.c.id == target_id).values(enabled=0))
                    _upsert_options(conn, target_id, {"disabled_reason": reason})
                    record.disabled, record.disabled_reason = True, reason
        if delivery_id is not None:
            pending = outcome == "pending"
            params: dict[str, Any] = {
                "b_id": delivery_id,
                "b_status": outcome,
                "b_error": _clip(error) if not success else "",
            }
            if owner is not None:
                params["b_owner"] = owner
            if pending:
                params["b_next"] = next_attempt_at if next_attempt_at is not None else time.time()
            else:
                params["b_now"] = now_iso
            _raw(conn, _FINISH[(pending, owner is not None)], params)
    return record


def skip_delivery(delivery_id: str, owner: str | None, reason: str) -> None:
    """Finish a delivery whose hook or webhook is gone or disabled, without running it."""
    condition = Delivery.id == delivery_id
    if owner is not None:
        condition = and_(condition, Delivery.claimed_by == owner)
    with write_transaction() as conn:
        conn.execute(
            update(Delivery)
            .where(condition)
            .values(
                status="skipped",
                claimed_by=None,
                lease_until=None,
                last_error=reason,
                finished_at=utcnow_iso(),
            )
        )


# ---- inspecting ------------------------------------------------------------------------


def get_delivery(delivery_id: str) -> dict[str, Any] | None:
    """One delivery row, or ``None``."""
    with get_engine().connect() as conn:
        row = conn.execute(select(*_COLUMNS).where(Delivery.id == delivery_id)).first()
    return _row(row) if row is not None else None


def get_deliveries(
    status: str | None = None, kind: str | None = None, target_id: int | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Deliveries newest first, optionally filtered."""
    query = select(*_COLUMNS)
    if status is not None:
        query = query.where(Delivery.status == status)
    if kind is not None:
        query = query.where(Delivery.kind == kind)
    if target_id is not None:
        query = query.where(Delivery.target_id == target_id)
    query = query.order_by(Delivery.created_at.desc(), Delivery.id).limit(limit)
    with get_engine().connect() as conn:
        return [_row(r) for r in conn.execute(query)]


def count_deliveries() -> dict[str, int]:
    """How many deliveries there are per status."""
    with get_engine().connect() as conn:
        rows = conn.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
    return {status: int(count) for status, count in rows}


def purge_finished(older_than_seconds: float) -> int:
    """Delete finished deliveries older than the given age; return how many (their log rows stay)."""
    cutoff = time.time() - older_than_seconds
    cutoff_iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(cutoff))
    with write_transaction() as conn:
        result = conn.execute(
            delete(Delivery).where(Delivery.status.in_(FINISHED), Delivery.finished_at < cutoff_iso)
        )
        return int(result.rowcount or 0)
