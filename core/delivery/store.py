"""The durable delivery queue (``deliveries``) and webhook options (``webhook_options``).

A delivery is one run of one script hook or webhook for one event. Its life:

* ``enqueue_deliveries`` writes the rows of one event in one transaction (``pending``).
  When that fails, ``queue_status`` says so (what ``/api/v1/health`` reports) until a
  later write succeeds; ``queue_problem()`` probes with a 64 KiB write meanwhile.
* ``claim_deliveries`` atomically moves due ``pending`` rows to ``running`` for a worker
  pool (``claimed_by``) until ``lease_until``: ``UPDATE ... WHERE id IN (SELECT ... FOR
  UPDATE SKIP LOCKED) RETURNING`` on PostgreSQL; the same single UPDATE statement (atomic
  in SQLite, which has one writer at a time) on SQLite.
* ``record_attempt`` writes, in one transaction, the ``hook_log`` row of the attempt, the
  hook's or webhook's trigger statistics, the delivery's new state (``delivered``,
  ``failed``, ``skipped`` or back to ``pending`` with a later ``next_attempt_at`` for a
  retry), and disables a webhook that answered 410 or reached the failure threshold.
  Attempts that workers finish together share one transaction (``GroupCommit``); each
  call still returns only once its attempt is committed.
* ``reschedule`` counts an attempt that failed inside sublarr (the run or its recording
  raised) against the same limit as any failed attempt: the delivery is ``failed`` once
  its attempts are used up.
* Rows whose lease ran out (their pool died) go back to ``pending`` with
  ``release_expired``; ``release_dead_owners`` does it at once for pools of dead processes
  on this host; ``release_owner`` for a pool stopping gracefully.

A delivery keeps its id across attempts and restarts: it is the ``webhook-id`` receivers
de-duplicate on (delivery is at-least-once).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, delete, func, insert, literal_column, select, update

from sublarr.core.db import hooks
from sublarr.core.db.engine import get_engine
from sublarr.core.db.models import Delivery, WebhookConfig, WebhookOption, utcnow_iso
from sublarr.core.db.prepared import run_prepared
from sublarr.core.errors import DatabaseFileLostError, EventNotStoredError, StorageError, ValidationError

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

KINDS = tuple(hooks.TARGET_TABLES)  # ("script", "webhook")
FINISHED = ("delivered", "failed", "skipped")
MAX_LOG_CHARS = hooks.MAX_OUTPUT_CHARS

_COLUMNS = tuple(Delivery.__table__.columns)
_COLUMN_NAMES = tuple(column.key for column in _COLUMNS)
_D = Delivery.__table__
_WC = WebhookConfig.__table__

# Written as a literal (not a bound value), so SQLite and PostgreSQL (with prepared, generic
# plans too) know the query matches the partial index ``ix_deliveries_due`` of pending rows.
_IS_PENDING = _D.c.status == literal_column("'pending'")
_IS_RUNNING = _D.c.status == literal_column("'running'")  # the partial index ix_deliveries_running
_DUE = (
    select(_D.c.id)
    .where(_IS_PENDING, _D.c.next_attempt_at <= bindparam("b_now"))
    .order_by(_D.c.next_attempt_at, _D.c.id)
    .limit(bindparam("b_limit"))
)
_CLAIM_VALUES = {"status": "running", "claimed_by": bindparam("b_owner"), "lease_until": bindparam("b_lease")}
# SQLite has one writer at a time, so a single UPDATE statement is the atomic claim. Its
# outer WHERE is the primary key only: with a status term too, SQLite walks every pending
# row through the status index (a claim then costs time proportional to the backlog).
_CLAIM_SQLITE = (
    update(_D).where(_D.c.id.in_(_DUE.scalar_subquery())).values(**_CLAIM_VALUES).returning(*_COLUMNS)
)
# PostgreSQL: a locking CTE runs once (an IN (subquery) may be re-run per row and claim too
# many) and skips rows other pools hold, so many workers never claim one row twice.
_LOCKED = _DUE.with_for_update(skip_locked=True).cte("due")
_CLAIM_POSTGRES = (
    update(_D).where(_D.c.id == _LOCKED.c.id, _IS_PENDING).values(**_CLAIM_VALUES).returning(*_COLUMNS)
)
_NEXT_DUE = select(func.min(_D.c.next_attempt_at)).where(_IS_PENDING)


class _WriterLock:
    """The process's SQLite write lock, where ``emit_event``'s enqueue goes before the workers.

    An urgent writer (queueing an event's deliveries) waits only for the transaction in
    progress; workers recording results step aside while one is waiting. With a plain lock
    instead, emit_event with 50 webhooks subscribed while a pool delivers takes 3-10 ms
    instead of about 1 ms (bench section 2).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._urgent = 0
        self._count = threading.Lock()

    def urgent_waiting(self) -> bool:
        """Whether an urgent writer waits for the lock now."""
        return self._urgent > 0

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


# ---- whether the queue can be written --------------------------------------------------


def describe_storage_failure(exc: BaseException) -> str:
    """A short reason for a failed database write, fit to show anyone: no path, host or SQL.

    Failures are named by kind (full, damaged, read-only, locked, the file lost), others by
    their class; the server log has the details.
    """
    if isinstance(exc, (DatabaseFileLostError, EventNotStoredError)):
        return exc.reason if isinstance(exc, EventNotStoredError) else str(exc)
    if isinstance(exc, StorageError):
        return "the database cannot be opened; see the server log"
    original = getattr(exc, "orig", None) or exc
    text = str(original).lower()
    if (
        "full" in text
        or "no space left" in text
        or isinstance(original, OSError)
        and original.errno == errno.ENOSPC
    ):
        return "database or disk is full"
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return "the database file is damaged (malformed)"
    if "readonly" in text or "read-only" in text:
        return "the database is read-only"
    if "locked" in text:
        return "the database is locked"
    return f"{type(original).__name__}; see the server log"


class QueueWriteStatus:
    """Whether the last write to the delivery queue failed, and why; thread-safe.

    Set by ``enqueue_deliveries`` and ``probe_queue_write``; a warning is logged once per
    outage and a note when writes work again.
    """

    def __init__(self) -> None:
        self._problem: str | None = None
        self._lock = threading.Lock()

    @property
    def problem(self) -> str | None:
        """Why the queue could not be written last time, or ``None`` when the last write worked."""
        return self._problem

    def failed(self, reason: str) -> None:
        """Note a failed write."""
        with self._lock:
            first, self._problem = self._problem is None, reason
        if first:
            logger.warning(
                "the delivery queue cannot be written (%s): events are refused until it can", reason
            )

    def succeeded(self) -> None:
        """Note a write that worked."""
        if self._problem is None:
            return
        with self._lock:
            was, self._problem = self._problem, None
        if was is not None:
            logger.warning("the delivery queue can be written again; events are accepted")

    def reset(self) -> None:
        """Forget any failure without logging (a new database, tests)."""
        with self._lock:
            self._problem = None


queue_status = QueueWriteStatus()


PROBE_BYTES = 65536  # the probe's payload: room for an event with a large payload, not just a byte


def probe_queue_write() -> bool:
    """Write (and remove, in the same transaction) one row of ``PROBE_BYTES``; ``True`` if it worked.

    Updates ``queue_status``. The row is never seen by anyone: no pool claims it.
    """
    probe_id = f"probe_{secrets.token_hex(8)}"
    try:
        with write_transaction(urgent=True) as conn:
            conn.execute(
                insert(Delivery).values(
                    id=probe_id, kind="probe", target_id=0, event_name="", event_id="",
                    event_timestamp="", payload=" " * PROBE_BYTES, status="probe", next_attempt_at=0.0,
                )
            )  # fmt: skip
            conn.execute(delete(Delivery).where(Delivery.id == probe_id))
    except Exception as exc:  # noqa: BLE001 - what failed is the answer
        logger.debug("delivery queue probe failed: %r", exc)
        queue_status.failed(describe_storage_failure(exc))
        return False
    queue_status.succeeded()
    return True


def queue_problem() -> str | None:
    """Why the delivery queue cannot be written, or ``None``; probes when the last write failed."""
    if queue_status.problem is not None:
        probe_queue_write()
    return queue_status.problem


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


def new_delivery_ids(count: int) -> list[str]:
    """``count`` fresh delivery ids, ``msg_<32 hex>``: creation time in ns, then 64 random bits.

    Time-ordered ids land at the end of the primary-key index instead of all over it, so
    queueing an event for many subscribers writes a few pages, not one per row.
    """
    # One read of the random source for all of them, not one per id: under load every GIL
    # release (os.urandom makes one) can cost a wait; with one per id, emit_event with 50
    # webhooks subscribed and a pool delivering takes several ms instead of < 1 ms (bench 2).
    random_hex = os.urandom(8 * count).hex()
    return [f"msg_{time.time_ns():016x}{random_hex[16 * n : 16 * n + 16]}" for n in range(count)]


def pool_owner_id() -> str:
    """An id for a worker pool: ``<host>:<pid>:<random>``, so dead local pools can be found."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _row(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


# ---- enqueue and claim -----------------------------------------------------------------


_ENQUEUE_FIELDS = (
    "id", "kind", "target_id", "event_name", "event_id", "event_timestamp", "payload", "status",
    "attempts", "next_attempt_at", "last_error", "created_at",
)  # fmt: skip
_INSERT_CHUNK = 500


def enqueue_deliveries(
    targets: Iterable[tuple[str, int]],
    event_name: str,
    event_id: str,
    event_timestamp: str,
    payload_json: str,
    *,
    delay: float = 0.0,
) -> list[str]:
    """Queue one delivery per ``(kind, target_id)`` in one transaction; return their ids.

    A failed write raises the database's error and is noted in ``queue_status``; nothing
    of this call is stored then.
    """
    targets = list(targets)
    for kind, _target_id in targets:
        if kind not in KINDS:
            raise ValidationError("kind", f"must be one of {KINDS}, got {kind!r}")
    if not targets:
        return []
    next_at = time.time() + delay
    created = utcnow_iso()
    ids = new_delivery_ids(len(targets))
    rows = [
        (delivery_id, kind, int(target_id), event_name, event_id, event_timestamp, payload_json,
         "pending", 0, next_at, "", created)
        for delivery_id, (kind, target_id) in zip(ids, targets)
    ]  # fmt: skip
    try:
        with write_transaction(urgent=True) as conn:
            # One multi-row INSERT per 500 rows, not one statement per row: the driver releases
            # the GIL once per statement, and one statement per row costs bench section 2 its < 1 ms.
            placeholder = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            group = "(" + ", ".join([placeholder] * len(_ENQUEUE_FIELDS)) + ")"
            for start in range(0, len(rows), _INSERT_CHUNK):
                chunk = rows[start : start + _INSERT_CHUNK]
                conn.exec_driver_sql(
                    f"INSERT INTO deliveries ({', '.join(_ENQUEUE_FIELDS)}) VALUES "
                    + ", ".join([group] * len(chunk)),
                    tuple(value for row in chunk for value in row),
                )
    except Exception as exc:
        queue_status.failed(describe_storage_failure(exc))
        raise
    if queue_status.problem is not None:
        queue_status.succeeded()
    return ids


def claim_deliveries(
    owner: str, limit: int, lease_seconds: float, now: float | None = None
) -> list[dict[str, Any]]:
    """Claim up to ``limit`` due pending deliveries for ``owner``; return them (oldest due first)."""
    if limit <= 0:
        return []
    now = time.time() if now is None else now
    statement = _CLAIM_POSTGRES if get_engine().dialect.name == "postgresql" else _CLAIM_SQLITE
    params = {"b_now": now, "b_limit": int(limit), "b_owner": owner, "b_lease": now + lease_seconds}
    with write_transaction() as conn:
        found, _ = run_prepared(conn, statement, params)  # per delivery: see run_prepared for the figure
    rows = [dict(zip(_COLUMN_NAMES, row)) for row in found]
    rows.sort(key=lambda r: (r["next_attempt_at"], r["id"]))
    return rows


def next_due_at() -> float | None:
    """When the earliest pending delivery becomes due (Unix seconds), or ``None``."""
    with get_engine().connect() as conn:
        return conn.execute(_NEXT_DUE).scalar()


def renew_leases(owner: str, lease_seconds: float) -> int:
    """Extend the lease of every delivery ``owner`` is running; return how many."""
    with write_transaction() as conn:
        result = conn.execute(
            update(Delivery)
            .where(Delivery.claimed_by == owner, _IS_RUNNING)
            .values(lease_until=time.time() + lease_seconds)
        )
        return int(result.rowcount or 0)


def _release(conn: Any, *conditions: Any) -> int:
    result = conn.execute(
        update(Delivery)
        .where(_IS_RUNNING, *conditions)
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


def max_attempts(conn: Any, kind: str, target_id: int) -> int:
    """How many attempts a delivery gets: a webhook's or notification's ``retry_count`` + 1, a script 1."""
    if kind not in ("webhook", "notification"):
        return 1
    table = hooks.TARGET_TABLES[kind].table
    retries = conn.execute(select(table.c.retry_count).where(table.c.id == target_id)).scalar()
    return int(retries or 0) + 1


def reschedule(delivery_id: str, owner: str, delay: float, error: str) -> str | None:
    """Count a claimed delivery's attempt that failed inside sublarr; return its new status.

    Such an attempt counts like any failed one: the delivery is ``pending`` again ``delay``
    seconds from now while it has attempts left (``max_attempts``), else ``failed``.
    ``None`` when ``owner`` no longer holds the delivery.
    """
    with write_transaction() as conn:
        row = conn.execute(
            select(Delivery.kind, Delivery.target_id, Delivery.attempts).where(
                Delivery.id == delivery_id, Delivery.claimed_by == owner, Delivery.status == "running"
            )
        ).first()
        if row is None:
            return None
        attempts = int(row.attempts or 0) + 1
        values: dict[str, Any] = {"claimed_by": None, "lease_until": None, "attempts": attempts}
        if attempts < max_attempts(conn, row.kind, row.target_id):
            values.update(status="pending", next_attempt_at=time.time() + delay)
        else:
            values.update(status="failed", finished_at=utcnow_iso())
        conn.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(last_error=hooks.storable_text(error), **values)
        )
    if values["status"] == "failed":
        logger.warning(
            "delivery %s failed for good: its %d attempt(s) are used up (%s)", delivery_id, attempts, error
        )
    return str(values["status"])


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
        owners = conn.execute(select(Delivery.claimed_by).where(_IS_RUNNING).distinct()).scalars().all()
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
    record = hooks.get_target(hooks.TARGET_TABLES[kind], target_id)
    if record is not None and kind == "webhook":
        record.update(get_webhook_options(target_id))
    return record


def get_webhook_options(webhook_id: int) -> dict[str, Any]:
    """``{"method", "headers", "disabled_reason"}`` of a webhook (defaults when never set)."""
    with get_engine().connect() as conn:
        row = conn.execute(select(WebhookOption).where(WebhookOption.webhook_id == webhook_id)).first()
    if row is None:
        return {
            "method": "POST", "headers": {}, "disabled_reason": "",
            "body_template": "", "content_type": "application/json", "filters": [],
        }  # fmt: skip
    return {
        "method": row.method,
        "headers": json.loads(row.headers or "{}"),
        "disabled_reason": row.disabled_reason,
        # migration 0009: templates and filters (delivery.templates, delivery.filters)
        "body_template": row.body_template,
        "content_type": row.content_type,
        "filters": json.loads(row.filters or "[]"),
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
    body_template: str | None = None,
    content_type: str | None = None,
    filters: list[dict[str, Any]] | None = None,
) -> None:
    """Store the given options of webhook ``webhook_id`` (the others keep their value)."""
    values: dict[str, Any] = {}
    if body_template is not None:
        values["body_template"] = body_template
    if content_type is not None:
        values["content_type"] = content_type
    if filters is not None:
        values["filters"] = json.dumps(filters, separators=(",", ":"), ensure_ascii=False)
    if method is not None:
        values["method"] = method
    if headers is not None:
        values["headers"] = json.dumps(headers, sort_keys=True)
    if disabled_reason is not None:
        values["disabled_reason"] = disabled_reason
    if values:
        with write_transaction() as conn:
            _upsert_options(conn, webhook_id, values)
        hooks.mark_config_changed()


# ---- recording attempts ----------------------------------------------------------------


class _Write:
    """A write waiting in a ``GroupCommit``: its function, then its result or error."""

    __slots__ = ("function", "callback", "order", "done", "result", "error")

    def __init__(
        self,
        function: Callable[[Any], Any],
        callback: Callable[[Any, Exception | None], None] | None,
        order: tuple[Any, ...] = (),
    ) -> None:
        self.function = function
        self.callback = callback
        self.order = order
        self.done = False
        self.result: Any = None
        self.error: Exception | None = None


class GroupCommit:
    """Runs the writes of several threads that arrive together in one transaction.

    ``run(write)`` returns once ``write(conn)`` is committed (or raises its error), as a
    transaction of its own would. ``submit(write, callback)`` returns at once; the write
    is committed with the next group and ``callback(result, error)`` is called afterwards
    (in the thread that committed it). The thread that finds no group being written leads:
    it writes every waiting write in one ``write_transaction``, hands out the results, and
    goes on while more are waiting; the others wait (``run``) or go on (``submit``). A
    group whose transaction fails is written again a write per transaction, so one bad
    write fails alone. N attempts then cost one BEGIN/COMMIT (and one turn of SQLite's
    write lock) instead of N (bench section 3).
    """

    WAIT_STEP = 0.05  # bounded waits: under gevent these are OS threads on patched locks

    def __init__(self, max_group: int = 256, gather: int = 4, linger: float = 0.001) -> None:
        self.max_group = max_group
        self.gather = gather
        self.linger = linger
        self._cond = threading.Condition()
        self._waiting: list[_Write] = []
        self._leading = False
        self.groups = 0  # transactions run (tests, bench)

    def run(self, function: Callable[[Any], _T], order: tuple[Any, ...] = ()) -> _T:
        """Run ``function(conn)`` in a write transaction, maybe shared with other threads' writes.

        ``order``: the rows it locks (e.g. ``(kind, target_id)``); see ``_lead``.
        """
        write = _Write(function, None, order)
        with self._cond:
            self._waiting.append(write)
            while self._leading and not write.done:
                self._cond.wait(self.WAIT_STEP)
            lead = not write.done
            if lead:
                self._leading = True
        if lead:
            self._lead()
        if write.error is not None:
            raise write.error
        return write.result  # type: ignore[no-any-return]

    def submit(
        self,
        function: Callable[[Any], Any],
        callback: Callable[[Any, Exception | None], None],
        order: tuple[Any, ...] = (),
    ) -> None:
        """Queue ``function(conn)`` for the next group; ``callback(result, error)`` once it is written."""
        with self._cond:
            self._waiting.append(_Write(function, callback, order))
            if self._leading:
                return
            self._leading = True
            few = len(self._waiting) < self.gather
        if few and self.linger:
            time.sleep(self.linger)  # let the attempts other workers are finishing join this group
        self._lead()

    def idle(self) -> bool:
        """Whether no write is waiting or being written."""
        with self._cond:
            return not self._waiting and not self._leading

    def _lead(self) -> None:
        """Write groups while writes wait; called holding the lead, which it gives up."""
        while True:
            with self._cond:
                group, self._waiting = self._waiting[: self.max_group], self._waiting[self.max_group :]
            # Every group takes its row locks (a target's statistics) in one order: groups of
            # several processes on PostgreSQL otherwise deadlock (bench/scale.py, 4 worker
            # processes: 45 deliveries/s with ~1 s deadlock waits, against 351/s for one).
            group.sort(key=lambda write: write.order)
            try:
                if group:
                    self._commit(group)
            except BaseException:  # interrupted: the next thread to write takes them up again
                with self._cond:
                    self._waiting[:0] = [write for write in group if not write.done]
                raise
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()
            for write in group:  # after giving up the lead: a callback may write again
                if write.callback is not None:
                    try:
                        write.callback(write.result, write.error)
                    except Exception:
                        logger.exception("a write's callback raised")
            with self._cond:
                if not self._waiting or self._leading:
                    return
                self._leading = True

    def _commit(self, group: list[_Write]) -> None:
        while group:
            group = group[self._commit_some(group) :]

    def _commit_some(self, group: list[_Write]) -> int:
        """Write the first writes of ``group`` in one transaction; return how many were handled.

        Stops early when an urgent writer (an emit queueing its deliveries) waits for
        SQLite's write lock, so a group never holds it longer than a few writes for them.
        """
        self.groups += 1
        results: list[Any] = []
        try:
            with write_transaction() as conn:
                for write in group:
                    results.append(write.function(conn))
                    if _sqlite_writer.urgent_waiting():
                        break
        except Exception as exc:  # noqa: BLE001 - handed to the thread whose write it is
            tried = group[: len(results) + 1]
            if len(tried) == 1:
                tried[0].error, tried[0].done = exc, True
                return 1
            for write in tried:  # one transaction each: only the bad write fails
                self.groups += 1
                try:
                    with write_transaction() as conn:
                        write.result = write.function(conn)
                except Exception as each:  # noqa: BLE001 - handed to the thread whose write it is
                    write.error = each
                write.done = True
            return len(tried)
        for write, result in zip(group, results):
            write.result, write.done = result, True
        return len(results)


attempt_writes = GroupCommit()


@dataclass
class AttemptRecord:
    """What ``record_attempt`` changed: the webhook's failure count and whether it got disabled."""

    log_id: int | None
    consecutive_failures: int = 0
    disabled: bool = False
    disabled_reason: str = ""


def _write_attempt(
    conn: Any,
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
    """Write one attempt on ``conn`` (see ``record_attempt``)."""
    record = AttemptRecord(log_id=None)
    record.log_id = hooks.write_log(
        conn,
        hook_id=target_id if kind == "script" else None,
        webhook_id=target_id if kind == "webhook" else None,
        event_name=event_name,
        hook_type=kind,
        success=success,
        exit_code=exit_code,
        status_code=status_code,
        stdout=stdout,
        stderr=stderr,
        error=error,
        duration_ms=duration_ms,
        delivery_id=delivery_id,
        notification_id=target_id if kind == "notification" else None,
    )["id"]
    if update_stats and kind == "script":
        hooks.write_hook_stats(conn, target_id, success)
    elif update_stats and kind == "webhook":
        stats = hooks.write_webhook_stats(
            conn, target_id, success, status_code or 0, error, count_failure=final
        )
        if stats is not None:
            record.consecutive_failures, enabled = stats
            reason = disable_reason
            if not reason and final and failure_threshold and stats[0] >= failure_threshold:
                reason = f"{stats[0]} deliveries in a row failed"
            if reason and enabled:
                hooks.disable_webhook(conn, target_id)
                _upsert_options(conn, target_id, {"disabled_reason": reason})
                record.disabled, record.disabled_reason = True, reason
    elif update_stats and kind == "notification":  # like a webhook (migration 0009)
        stats = hooks.write_notification_stats(conn, target_id, success, error, count_failure=final)
        if stats is not None:
            record.consecutive_failures, enabled = stats
            if final and failure_threshold and stats[0] >= failure_threshold and enabled:
                reason = f"{stats[0]} deliveries in a row failed"
                hooks.disable_notification(conn, target_id, reason)
                record.disabled, record.disabled_reason = True, reason
    if delivery_id is not None:
        _finish(conn, delivery_id, owner, outcome, "" if success else error, next_attempt_at)
    return record


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

    The transaction may hold the attempts other workers finish at the same moment too
    (``attempt_writes``, a ``GroupCommit``); it returns once this attempt is committed.

    ``outcome`` is the delivery's new status (``delivered``, ``failed``, ``skipped``, or
    ``pending`` with ``next_attempt_at`` for a retry). ``final`` says the delivery is over,
    so a webhook's ``consecutive_failures`` moves (reset on success, +1 on failure).
    ``disable_reason`` disables the webhook now (410); otherwise it is disabled when
    ``consecutive_failures`` reaches ``failure_threshold`` (0: never).
    """
    fields = dict(locals())
    record = attempt_writes.run(
        lambda conn: _write_attempt(conn, **fields), order=(fields["kind"], fields["target_id"])
    )
    if record.disabled:
        hooks.mark_config_changed()
    return record


def record_attempt_later(
    callback: Callable[[AttemptRecord | None, Exception | None], None], **attempt: Any
) -> None:
    """``record_attempt(**attempt)`` written with the next group of attempts; returns at once.

    ``callback(record, None)`` follows the commit, ``callback(None, error)`` a failed
    write (called in the thread that wrote the group). Until then the delivery stays
    ``running`` under its lease: if the process dies first, the attempt is made again
    (with the same delivery id), as after any crash between a send and its record.
    """

    def done(record: AttemptRecord | None, error: Exception | None) -> None:
        if record is not None and record.disabled:
            hooks.mark_config_changed()
        callback(record, error)

    attempt_writes.submit(
        lambda conn: _write_attempt(conn, **attempt), done, order=(attempt["kind"], attempt["target_id"])
    )


_FINISH = {
    (pending, with_owner): update(_D)
    .where(_D.c.id == bindparam("b_id"), *((_D.c.claimed_by == bindparam("b_owner"),) if with_owner else ()))
    .values(
        status=bindparam("b_status"),
        attempts=_D.c.attempts + 1,
        claimed_by=None,
        lease_until=None,
        last_error=bindparam("b_error"),
        **({"next_attempt_at": bindparam("b_next")} if pending else {"finished_at": bindparam("b_now")}),
    )
    for pending in (True, False)
    for with_owner in (True, False)
}


def _finish(
    conn: Any, delivery_id: str, owner: str | None, status: str, error: str, next_attempt_at: float | None
) -> None:
    """Set a delivery's state after an attempt: ``pending`` again at ``next_attempt_at``, or finished."""
    pending = status == "pending"
    params: dict[str, Any] = {"b_id": delivery_id, "b_status": status, "b_error": hooks.storable_text(error)}
    if owner is not None:
        params["b_owner"] = owner
    if pending:
        params["b_next"] = next_attempt_at if next_attempt_at is not None else time.time()
    else:
        params["b_now"] = utcnow_iso()
    run_prepared(conn, _FINISH[(pending, owner is not None)], params)  # hot: see run_prepared


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


def requeue_finished(delivery_id: str) -> dict[str, Any] | None:
    """Put a finished delivery back on the queue, due now, with a fresh round of attempts.

    The id stays (receivers see the same ``webhook-id``). Returns the updated row, or
    ``None`` when the delivery is not finished (still queued or running) or not kept.
    """
    with write_transaction(urgent=True) as conn:
        row = conn.execute(
            update(_D)
            .where(_D.c.id == delivery_id, _D.c.status.in_(FINISHED))
            .values(
                status="pending",
                attempts=0,
                next_attempt_at=time.time(),
                lease_until=None,
                claimed_by=None,
                last_error="",
                finished_at=None,
            )
            .returning(*_COLUMNS)
        ).first()
    return _row(row) if row is not None else None


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


PURGE_BATCH = 200  # rows per purge transaction: about 1-2 ms of the write lock (bench section 6)

# One batch of old finished deliveries: read from ix_deliveries_finished_at, deleted by id.
_PURGE = delete(_D).where(
    _D.c.id.in_(
        select(_D.c.id)
        .where(
            _D.c.finished_at < bindparam("b_cutoff"),
            _D.c.status.in_([literal_column(f"'{status}'") for status in FINISHED]),
        )
        .limit(bindparam("b_limit"))
        .scalar_subquery()
    )
)


def purge_finished(
    older_than_seconds: float, *, batch_size: int = PURGE_BATCH, max_rows: int | None = None
) -> int:
    """Delete finished deliveries older than the given age; return how many (their log rows stay).

    Deletes ``batch_size`` rows per transaction and lets any waiting writer (an emit
    queueing its deliveries) in between batches, so a purge of any size never holds the
    write lock longer than one batch. Stops after about ``max_rows`` rows when given (call
    again for the rest).
    """
    cutoff = time.time() - older_than_seconds
    cutoff_iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(cutoff))
    batch_size = max(1, int(batch_size))
    total = 0
    while max_rows is None or total < max_rows:
        with write_transaction() as conn:
            _, deleted = run_prepared(conn, _PURGE, {"b_cutoff": cutoff_iso, "b_limit": batch_size})
        total += max(0, deleted)
        if deleted < batch_size:
            break
        time.sleep(0)  # between transactions: let other threads (and their writes) run
    return total
