"""The worker pool: threads that run queued hook and webhook deliveries.

One dispatcher thread claims due rows from the ``deliveries`` table into a bounded
in-memory queue (at most twice the number of workers, so a flood of events waits in the
table, not in RAM); ``SUBLARR_DELIVERY_WORKERS`` worker threads (default 4) run them.
The dispatcher wakes at once when this process queues work, when a retry falls due, and
every ``SUBLARR_DELIVERY_POLL_INTERVAL`` seconds for work queued by other processes.

Under gevent's monkey-patching (``sublarr serve``'s evented server) the dispatcher and the
workers stay real OS threads (run by gevent's thread pool), not greenlets: a slow SQLite
call, a script or a webhook then blocks its own thread, never the server's event loop.

A worker goes on to its next delivery once its attempt is made: the attempt is written
with the attempts other workers finish meanwhile, in one transaction
(``store.attempt_writes``), and counts as done (``completed``, ``wait_idle``) only once
written; until then the row stays ``running`` under its lease.

Claims are leases: the dispatcher renews them while work runs; rows of a pool that died
become pending again when their lease runs out (``SUBLARR_DELIVERY_LEASE``), or at once
when a pool starts on the same host and the dead pool's process is gone.

Nothing here is global except the *current pool* the server and CLI use::

    pool = start_pool()          # WorkerPool(current_settings()), made current, started
    ...
    stop_pool(timeout=10)        # waits for running deliveries, releases unstarted ones

A pool can also be made and driven explicitly: ``WorkerPool(settings).start()`` /
``.stop(timeout)``; ``set_current_pool(pool)`` makes it the one ``test_hook`` uses.
"""

from __future__ import annotations

import functools
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from sublarr.core.delivery import enqueue
from sublarr.core.delivery import store as deliveries
from sublarr.core.delivery.executor import DeliveryExecutor
from sublarr.core.delivery.url_policy import UrlPolicy
from sublarr.core.delivery.webhook_sender import WebhookSender
from sublarr.core.settings import Settings, current_settings

logger = logging.getLogger(__name__)

PURGE_AFTER_SECONDS = 7 * 24 * 3600
PURGE_ROWS_PER_TURN = 5000  # old finished deliveries purged per dispatcher turn (in small batches)
PURGE_PAUSE_SECONDS = 0.01
UNEXPECTED_ERROR_DELAY = 30.0  # a delivery whose run raised (a bug, a database outage) waits this long
_STOP = None
IDLE_WAKE_SECONDS = 1.0


class _Joinable(Protocol):
    def start(self) -> None: ...
    def join(self, timeout: float | None = None) -> None: ...
    def is_alive(self) -> bool: ...


def gevent_patched() -> bool:
    """Whether gevent has monkey-patched ``threading`` in this process (the evented server)."""
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey is not None and monkey.is_module_patched("threading"))


class _NativeThread:
    """A real OS thread while ``threading`` is monkey-patched (its ``Thread`` would be a greenlet)."""

    def __init__(self, target: Callable[[], None]) -> None:
        from gevent.threadpool import ThreadPool

        self._target = target
        self._pool = ThreadPool(1)
        self._result: Any = None

    def start(self) -> None:
        self._result = self._pool.spawn(self._target)

    def join(self, timeout: float | None = None) -> None:
        if self._result is not None:
            self._result.wait(timeout)

    def is_alive(self) -> bool:
        return self._result is not None and not self._result.ready()


def _queue_class() -> type[queue.Queue[Any]]:
    """``queue.Queue``; the standard library's under gevent (its ``Queue`` is for one thread's greenlets)."""
    if gevent_patched():
        monkey = sys.modules["gevent.monkey"]
        return monkey.get_original("queue", "Queue")  # type: ignore[no-any-return]
    return queue.Queue


def _thread(target: Callable[[], None], name: str) -> _Joinable:
    """A daemon thread running ``target``: an OS thread even under gevent's monkey-patching."""
    if gevent_patched():
        return _NativeThread(target)
    return threading.Thread(target=target, name=name, daemon=True)


class WorkerPool:
    """A dispatcher and a bounded set of worker threads over the durable delivery queue."""

    def __init__(self, settings: Settings | None = None, *, workers: int | None = None) -> None:
        self.settings = settings if settings is not None else current_settings()
        self.size = int(workers or self.settings.delivery_workers)
        self.capacity = 2 * self.size
        self.refill_batch = max(1, self.size)
        self.owner = deliveries.pool_owner_id()
        self.sender = WebhookSender(
            UrlPolicy.from_strings(self.settings.webhook_deny_networks), max_connections=self.capacity
        )
        self.executor = DeliveryExecutor(self.settings, self.sender)
        self._queue: queue.Queue[dict[str, Any] | None] = _queue_class()(maxsize=self.capacity)
        self._cond = threading.Condition()
        self._wake = False
        self._claimed: set[str] = set()
        self._reserved = 0
        self._running: set[str] = set()
        self._stopping = threading.Event()
        self._dispatcher: _Joinable | None = None
        self._workers: list[_Joinable] = []
        self.started = False
        self.completed = 0
        self._purge_left = False

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> WorkerPool:
        """Recover deliveries of dead pools, then start the threads; return self."""
        if self.started:
            return self
        deliveries.release_dead_owners()
        deliveries.release_expired()
        self.started = True
        enqueue.add_waker(self.wake)
        self._dispatcher = _thread(self._dispatch_loop, "sublarr-dispatcher")
        self._dispatcher.start()
        for n in range(self.size):
            thread = _thread(self._work_loop, f"sublarr-worker-{n}")
            thread.start()
            self._workers.append(thread)
        logger.info("delivery pool %s started with %d workers", self.owner, self.size)
        return self

    def stop(self, timeout: float | None = None) -> bool:
        """Stop claiming, release unstarted work, wait up to ``timeout`` s for running work.

        ``timeout`` defaults to ``SUBLARR_DELIVERY_SHUTDOWN_TIMEOUT``. Returns ``True`` when
        every worker finished in time; work still running is recovered later through its
        lease like a crash.
        """
        if not self.started:
            return True
        timeout = self.settings.delivery_shutdown_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        enqueue.remove_waker(self.wake)
        self._stopping.set()
        self.wake()
        if self._dispatcher is not None:
            self._dispatcher.join(max(0.0, deadline - time.monotonic()))
        unstarted: list[str] = []
        while True:
            try:
                row = self._queue.get_nowait()
            except queue.Empty:
                break
            if row is not None:
                unstarted.append(row["id"])
        try:
            released = deliveries.release_owner(self.owner, unstarted)
        except Exception:  # the database may be gone; leases recover the rows
            logger.exception("could not release unstarted deliveries")
            released = 0
        for _ in self._workers:
            self._queue.put(_STOP)
        for thread in self._workers:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t for t in self._workers if t.is_alive()]
        if alive:
            logger.warning(
                "delivery pool %s stopped with %d delivery(ies) still running; they are retried "
                "after their lease runs out",
                self.owner,
                len(self._running),
            )
        else:
            self.sender.close()
        self.started = False
        logger.info("delivery pool %s stopped (%d unstarted released)", self.owner, released)
        return not alive

    def __enter__(self) -> WorkerPool:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def wake(self) -> None:
        """Look at the queue table now."""
        with self._cond:
            self._wake = True
            self._cond.notify_all()

    @property
    def busy(self) -> int:
        """Deliveries claimed by this pool (queued in memory or running)."""
        with self._cond:
            return len(self._claimed)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is due or claimed (tests, benchmarks); ``True`` if it happened."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._cond:
                claimed = len(self._claimed)
            if not claimed:
                due = deliveries.next_due_at()
                if due is None or due > time.time():
                    with self._cond:
                        if not self._claimed:
                            return True
            time.sleep(0.01)
        return False

    # -- threads --------------------------------------------------------------------------

    def _maintain(self) -> None:
        deliveries.renew_leases(self.owner, self.settings.delivery_lease)
        deliveries.release_expired()
        deliveries.release_dead_owners()
        self._purge_left = True

    def _purge_some(self) -> None:
        """Purge up to ``PURGE_ROWS_PER_TURN`` old finished deliveries; the rest on the next turns.

        A large backlog of history is purged a slice per dispatcher turn, between claims,
        so deliveries keep flowing while it goes.
        """
        purged = deliveries.purge_finished(PURGE_AFTER_SECONDS, max_rows=PURGE_ROWS_PER_TURN)
        self._purge_left = purged >= PURGE_ROWS_PER_TURN

    def _dispatch_loop(self) -> None:
        lease = self.settings.delivery_lease
        maintain_every = max(0.05, lease / 3)
        last_maintenance = time.monotonic()
        poll = self.settings.delivery_poll_interval
        failing: str | None = None  # the reason of the dispatcher's current outage
        while not self._stopping.is_set():
            try:
                if time.monotonic() - last_maintenance >= maintain_every:
                    self._maintain()
                    last_maintenance = time.monotonic()
                if self._purge_left:
                    self._purge_some()
                with self._cond:
                    free = self.capacity - len(self._claimed)
                    self._reserved = max(0, free)
                    self._wake = False
                rows = []
                try:
                    rows = deliveries.claim_deliveries(self.owner, free, lease) if free > 0 else []
                finally:
                    with self._cond:
                        self._reserved = 0
                        self._claimed.update(row["id"] for row in rows)
                for row in rows:
                    self._queue.put(row)
                if rows and len(rows) < free:
                    continue  # maybe more became due meanwhile; claim again
                if rows:
                    wait = poll  # full: a finishing worker wakes us
                else:
                    due = deliveries.next_due_at() if free > 0 else None
                    wait = poll if due is None else min(poll, max(0.0, due - time.time()))
            except Exception as exc:  # keep dispatching whatever one query did
                reason = deliveries.describe_storage_failure(exc)
                if reason != failing:  # once per outage (and per new reason), not every poll
                    logger.exception("delivery dispatcher error (%s); retrying every %.1f s", reason, poll)
                    failing = reason
                wait = poll
            else:
                if failing is not None:
                    logger.warning("delivery dispatcher works again (was: %s)", failing)
                    failing = None
            if self._purge_left:
                wait = min(wait, PURGE_PAUSE_SECONDS)  # more history to purge: soon, between claims
            with self._cond:
                if not self._wake and not self._stopping.is_set() and wait > 0:
                    self._cond.wait(min(wait, maintain_every))

    def _work_loop(self) -> None:
        while True:
            try:
                # Bounded waits: under gevent an OS thread blocking on a patched lock forever,
                # with nothing else on its own hub, would end in LoopExit.
                row = self._queue.get(timeout=IDLE_WAKE_SECONDS)
            except queue.Empty:
                continue
            if row is _STOP:
                return
            with self._cond:
                self._running.add(row["id"])
            try:
                # Returns once the attempt is made; it is written with the next group of
                # attempts, and _finished follows the write (this worker goes on meanwhile).
                self.executor.run(row, self.owner, recorded=functools.partial(self._finished, row))
            except Exception as exc:  # noqa: BLE001 - one broken delivery must not kill the worker (logged)
                self._finished(row, exc)

    def _finished(self, row: dict[str, Any], error: Exception | None) -> None:
        """A delivery's attempt is written (or failed unexpectedly: ``error``); free its place."""
        if error is not None:
            logger.error(
                "delivery %s failed unexpectedly; retried in %g s",
                row["id"],
                UNEXPECTED_ERROR_DELAY,
                exc_info=error,
            )
            try:
                deliveries.reschedule(row["id"], self.owner, UNEXPECTED_ERROR_DELAY, "internal error")
            except Exception:  # its lease brings it back
                logger.exception("could not reschedule delivery %s", row["id"])
        with self._cond:
            if row["id"] not in self._claimed:
                return  # already counted
            self._running.discard(row["id"])
            self._claimed.discard(row["id"])
            self.completed += 1
            # Wake the dispatcher when half the capacity is free, so it claims in
            # batches rather than one row per finished delivery.
            if len(self._claimed) + self._reserved <= self.capacity - self.refill_batch:
                self._wake = True
                self._cond.notify_all()


# -- the current pool ----------------------------------------------------------------------

_current: WorkerPool | None = None
_current_lock = threading.Lock()


def get_current_pool() -> WorkerPool | None:
    """The pool the server, CLI and ``test_hook`` use, or ``None``."""
    return _current


def set_current_pool(pool: WorkerPool | None) -> WorkerPool | None:
    """Make ``pool`` current; return the previous one (not stopped)."""
    global _current
    with _current_lock:
        previous, _current = _current, pool
    return previous


def start_pool(settings: Settings | None = None, *, workers: int | None = None) -> WorkerPool:
    """Create, make current and start a pool (stopping a current one first)."""
    stop_pool()
    pool = WorkerPool(settings, workers=workers)
    set_current_pool(pool)
    return pool.start()


def stop_pool(timeout: float | None = None) -> bool:
    """Stop the current pool, if any, and forget it; ``True`` if it finished in time."""
    pool = set_current_pool(None)
    return pool.stop(timeout) if pool is not None else True
