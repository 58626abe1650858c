"""The delivery pool as a host application's background service (what ``sublarr serve`` runs).

``background_for_app(app)`` returns an object with ``start()``, ``stop()`` (draining:
running deliveries finish within ``SUBLARR_DELIVERY_SHUTDOWN_TIMEOUT``, unstarted ones stay
queued for the next start) and ``status()`` (a short text for health checks). The pool it
starts becomes the current pool, so ``test_hook``/``test_webhook`` use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sublarr.core.delivery.worker_pool import WorkerPool, get_current_pool, set_current_pool
from sublarr.core.settings import load_settings


@dataclass
class PoolService:
    """Start/stop/status of one worker pool built from a host app's ``SUBLARR_*`` config."""

    config: dict[str, Any] = field(default_factory=dict)
    pool: WorkerPool | None = None

    def start(self) -> None:
        """Create, make current and start the pool."""
        if self.pool is not None and self.pool.started:
            return
        self.pool = WorkerPool(load_settings(self.config))
        set_current_pool(self.pool)
        self.pool.start()

    def stop(self) -> None:
        """Drain and stop the pool; it stops being current."""
        pool, self.pool = self.pool, None
        if pool is None:
            return
        if get_current_pool() is pool:
            set_current_pool(None)
        pool.stop()

    def status(self) -> str:
        """``ok (<n> workers, <busy> busy)`` or ``stopped``."""
        pool = self.pool
        if pool is None or not pool.started:
            return "stopped"
        return f"ok ({pool.size} workers, {pool.busy} busy)"


def background_for_app(app: Any) -> PoolService:
    """A ``PoolService`` configured from ``app.config`` (its ``SUBLARR_*`` keys)."""
    config = {k: v for k, v in getattr(app, "config", {}).items() if str(k).startswith("SUBLARR_")}
    return PoolService(config)
