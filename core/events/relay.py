"""Socket.IO events across processes without a message queue: the ``recent_events`` table.

Without ``SUBLARR_MESSAGE_QUEUE`` (the embedded default), a process that emits an event and
holds no Socket.IO server of its own - ``sublarr emit``, ``sublarr worker``, a host
application's job - appends it to ``recent_events`` (``append_event``; the Socket.IO
bridge does this). Every ``sublarr serve`` on the same database runs an ``EventFollower``:
a real OS thread that reads the rows past the last one it saw every ``FOLLOW_INTERVAL``
seconds and hands each to the bridge, which emits it to that server's clients. So an event
from another process reaches the clients within about 0.2 s.

What it does not do (use ``SUBLARR_MESSAGE_QUEUE`` for these): a server's own events
(emitted through its API or by its delivery workers) are not written to the table, so with
several servers on one database and no Redis each server's own events reach only its own
clients (events of server-less processes reach every server). Rows are kept
``KEEP_SECONDS`` (at most ``KEEP_ROWS``); a server started later does not replay older ones.

Ordering and gaps: the follower delivers rows in id order. On PostgreSQL an id can become
visible after a higher one (two emitting processes commit in the other order); the follower
waits up to ``GAP_WAIT_SECONDS`` for a missing id before it gives up on it (a rolled-back
insert leaves a permanent gap), and never delivers a row twice.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, func, insert, select

from sublarr.core.db import get_engine
from sublarr.core.db.models import RecentEvent

logger = logging.getLogger(__name__)

FOLLOW_INTERVAL = 0.2
KEEP_SECONDS = 600.0
KEEP_ROWS = 10_000
GAP_WAIT_SECONDS = 2.0
BATCH_ROWS = 500
PRUNE_EVERY_SECONDS = 30.0
PRUNE_EVERY_APPENDS = 1000  # an appending process prunes when its row's id is a multiple of this

Deliver = Callable[[str, dict[str, Any]], None]


def _new_origin() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


_origin = _new_origin()


def _reset_origin() -> None:
    global _origin
    _origin = _new_origin()


os.register_at_fork(after_in_child=_reset_origin)


def process_origin() -> str:
    """This process's tag on the rows it appends: ``<host>:<pid>:<random>``."""
    return _origin


def require_redis_client(url: str) -> None:
    """Raise ``SettingsError`` when message queue ``url`` needs the ``redis`` package and it is missing."""
    try:
        import redis  # noqa: F401
    except ImportError:
        from sublarr.core.settings import SettingsError

        raise SettingsError(
            "SUBLARR_MESSAGE_QUEUE needs the redis package: pip install 'sublarr[redis]'"
        ) from None


def append_event(event_name: str, message: dict[str, Any]) -> int:
    """Store ``message`` (the envelope clients get) of event ``event_name``; return its row id.

    Raises the database's error when the row cannot be written.
    """
    from sublarr.core.delivery.store import write_transaction

    body = json.dumps(message, separators=(",", ":"), default=str)
    row = {"created_at": time.time(), "origin": _origin, "event_name": event_name, "message": body}
    with write_transaction(urgent=True) as conn:
        row_id = int(conn.execute(insert(RecentEvent).values(row).returning(RecentEvent.id)).scalar_one())
    if row_id % PRUNE_EVERY_APPENDS == 0:
        prune_events()
    return row_id


def latest_event_id() -> int:
    """The highest row id stored (0 when the table is empty)."""
    with get_engine().connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(RecentEvent.id), 0))).scalar_one())


def events_after(floor: int, limit: int = BATCH_ROWS) -> list[tuple[int, str, str, str]]:
    """Rows with an id above ``floor``, oldest first: ``(id, origin, event_name, message JSON)``."""
    query = (
        select(RecentEvent.id, RecentEvent.origin, RecentEvent.event_name, RecentEvent.message)
        .where(RecentEvent.id > floor)
        .order_by(RecentEvent.id)
        .limit(limit)
    )
    with get_engine().connect() as conn:
        return [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in conn.execute(query)]


def prune_events(now: float | None = None) -> int:
    """Delete rows older than ``KEEP_SECONDS`` and all but the newest ``KEEP_ROWS``; return how many."""
    from sublarr.core.delivery.store import write_transaction

    cutoff = (time.time() if now is None else now) - KEEP_SECONDS
    with write_transaction() as conn:
        newest = conn.execute(select(func.coalesce(func.max(RecentEvent.id), 0))).scalar_one()
        result = conn.execute(
            delete(RecentEvent).where(
                (RecentEvent.created_at < cutoff) | (RecentEvent.id <= int(newest) - KEEP_ROWS)
            )
        )
        return int(result.rowcount or 0)


class EventFollower:
    """Follows ``recent_events`` from the newest row on and calls ``deliver(name, message)`` per new row.

    ``start()`` runs ``poll()`` every ``interval`` seconds on a real OS thread (also under
    gevent: SQLite calls must not block the server's event loop); ``stop()`` ends it.
    Rows this process appended itself (``origin``) are skipped.
    """

    def __init__(self, deliver: Deliver, interval: float = FOLLOW_INTERVAL) -> None:
        self.deliver = deliver
        self.interval = interval
        self.floor: int | None = None  # every id <= floor is delivered or given up on
        self.delivered = 0
        self._seen: set[int] = set()  # delivered ids above the floor
        self._missing_since: dict[int, float] = {}
        self._stopping = False
        self._runner: Any = None
        self._last_prune = 0.0
        self._failing: str | None = None

    def poll(self) -> int:
        """Deliver the rows stored since the last poll; return how many were delivered."""
        if self.floor is None:
            self.floor = latest_event_id()
            self._last_prune = time.monotonic()
            return 0
        count = 0
        for row_id, origin, event_name, body in events_after(self.floor):
            if row_id in self._seen:
                continue
            self._seen.add(row_id)
            if origin == _origin:
                continue
            try:
                message = json.loads(body)
            except ValueError:
                logger.warning("recent event %d is not JSON; skipped", row_id)
                continue
            self.deliver(event_name, message)
            count += 1
        self.delivered += count
        self._advance_floor(time.monotonic())
        if time.monotonic() - self._last_prune >= PRUNE_EVERY_SECONDS:
            self._last_prune = time.monotonic()
            prune_events()
        return count

    def _advance_floor(self, now: float) -> None:
        assert self.floor is not None
        top = max(self._seen, default=self.floor)
        while self.floor < top:
            following = self.floor + 1
            if following in self._seen:
                self._seen.discard(following)
            elif now - self._missing_since.setdefault(following, now) < GAP_WAIT_SECONDS:
                break  # maybe committed later (PostgreSQL): wait a little for it
            self._missing_since.pop(following, None)
            self.floor = following

    # -- the thread ----------------------------------------------------------------------

    def start(self) -> EventFollower:
        """Start following on a thread of its own; return self."""
        if self._runner is not None:
            return self
        self._stopping = False
        self._runner = _os_thread(self._run)
        logger.info("following events of other processes in the database every %.1f s", self.interval)
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop following; wait up to ``timeout`` seconds for the thread."""
        self._stopping = True
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.join(timeout)

    def _run(self) -> None:
        from sublarr.core.delivery.store import describe_storage_failure

        while not self._stopping:
            try:
                self.poll()
            except Exception as exc:  # noqa: BLE001 - a database outage: said once, following goes on
                reason = describe_storage_failure(exc)
                if reason != self._failing:
                    logger.warning("following events of other processes failed (%s); retrying", reason)
                    self._failing = reason
            else:
                if self._failing is not None:
                    logger.warning("following events of other processes works again")
                    self._failing = None
            time.sleep(self.interval)


class _Runner:
    """A started OS thread: ``join(timeout)``."""

    def __init__(self, join: Callable[[float], Any]) -> None:
        self.join = join


def _os_thread(target: Callable[[], None]) -> _Runner:
    """Run ``target`` on a real OS thread, also while gevent has patched ``threading``."""
    from sublarr.core.delivery.worker_pool import gevent_patched

    if gevent_patched():
        from gevent.threadpool import ThreadPool

        pool = ThreadPool(1)
        result = pool.spawn(target)
        return _Runner(lambda timeout: result.wait(timeout))
    thread = threading.Thread(target=target, name="sublarr-event-follower", daemon=True)
    thread.start()
    return _Runner(thread.join)
