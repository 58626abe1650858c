"""Caching of scoring configuration, and the one switch that drops all of it.

Everything derived from the scoring configuration is kept for
``SUBLARR_SCORING_CACHE_TTL`` seconds (60 by default; 0 keeps nothing): core's merged weight
and modifier tables (``sublarr.core.scoring.compute``), and whatever plugins keep in a
``TTLCache`` (the built-in plugins keep the stored weights and provider modifiers in one
made by ``stored_scoring_cache``).

``invalidate_scoring_cache()`` drops all of it at once: every ``TTLCache`` and every
callback registered with ``on_scoring_invalidated`` (core's tables are one). It is called

* by the storage layer (``sublarr.core.db.scoring``) after every write it commits, so a
  write made in this process applies to the next score;
* on a ``config_updated`` event for the ``scoring_weights`` or ``provider_modifiers``
  section (``invalidate_if_scoring_changed``, which the built-in scoring plugins call):
  another process is told of its writes by emitting that event there;
* by ``init_db`` when the database changes, and by host code or tests that changed the
  configuration some other way.

Without an invalidation a change shows within the TTL for core's tables, and within twice
the TTL where a plugin's cache feeds them (each layer may hold its copy for one period).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from time import monotonic
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from sublarr.core.errors import SublarrError
from sublarr.core.plugin_manager import get_plugin_manager

logger = logging.getLogger(__name__)

T = TypeVar("T")

_caches: weakref.WeakSet[TTLCache[Any]] = weakref.WeakSet()
_callbacks: list[Callable[[], None]] = []
_callbacks_lock = threading.Lock()


def scoring_cache_ttl() -> float:
    """Seconds scoring configuration is kept: ``SUBLARR_SCORING_CACHE_TTL`` of the current settings."""
    return float(get_plugin_manager().settings.scoring_cache_ttl)


class TTLCache(Generic[T]):
    """One value made by ``load()`` on first use and kept for the scoring TTL.

    ``ttl`` overrides the TTL (seconds, or a function returning seconds). The cache is
    emptied by ``clear()`` and by ``invalidate_scoring_cache()``. If ``load`` raises, the
    error propagates and nothing is kept. Thread-safe: one thread loads, the others wait.
    """

    def __init__(self, load: Callable[[], T], ttl: float | Callable[[], float] | None = None) -> None:
        self._load = load
        self._ttl = ttl
        self._entry: tuple[T, float] | None = None
        self._epoch = 0
        self._lock = threading.Lock()  # one load at a time
        self._publish = threading.Lock()  # short: storing or dropping the entry
        _caches.add(self)

    def _ttl_seconds(self) -> float:
        if self._ttl is None:
            return scoring_cache_ttl()
        return float(self._ttl() if callable(self._ttl) else self._ttl)

    def get(self) -> T:
        """The cached value, loaded afresh when missing or expired."""
        entry = self._entry
        if entry is not None and monotonic() < entry[1]:
            return entry[0]
        with self._lock:
            entry = self._entry
            if entry is not None and monotonic() < entry[1]:
                return entry[0]
            epoch = self._epoch
            value = self._load()
            expires = monotonic() + self._ttl_seconds()
            with self._publish:
                if epoch == self._epoch:  # not invalidated while loading
                    self._entry = (value, expires)
            return value

    def clear(self) -> None:
        """Forget the value: the next ``get`` loads afresh."""
        with self._publish:
            self._epoch += 1
            self._entry = None


def on_scoring_invalidated(callback: Callable[[], None]) -> Callable[[], None]:
    """Call ``callback()`` on every ``invalidate_scoring_cache()``; return it (usable as a decorator)."""
    with _callbacks_lock:
        if callback not in _callbacks:
            _callbacks.append(callback)
    return callback


def invalidate_scoring_cache() -> None:
    """Drop every cached piece of scoring configuration; the next score reloads it."""
    for cache in list(_caches):
        cache.clear()
    with _callbacks_lock:
        callbacks = list(_callbacks)
    for callback in callbacks:
        try:
            callback()
        except Exception:  # one bad listener must not keep the others stale
            logger.exception("scoring cache invalidation callback %r raised", callback)
    logger.debug("scoring caches invalidated")


class StorageStatus:
    """Whether scoring storage answers; logs a warning once per outage and a note when it is back."""

    def __init__(self) -> None:
        self._down = False
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        """True between a failure and the next success."""
        return self._down

    def failed(self, what: str, exc: BaseException) -> None:
        """Report that reading ``what`` failed; only the first failure of an outage is logged."""
        with self._lock:
            if self._down:
                return
            self._down = True
        logger.warning(
            "scoring storage unavailable (reading %s: %s: %s); scoring with default weights "
            "and no stored provider modifiers until it is back",
            what,
            type(exc).__name__,
            exc,
        )

    def succeeded(self) -> None:
        """Report a successful read; logs once if storage had been down."""
        with self._lock:
            if not self._down:
                return
            self._down = False
        logger.info("scoring storage reachable again; stored weights and modifiers apply")

    def reset(self) -> None:
        """Forget any outage without logging (tests)."""
        with self._lock:
            self._down = False


storage_status = StorageStatus()


SCORING_SECTIONS: frozenset[str] = frozenset({"scoring_weights", "provider_modifiers", "scoring_preferences"})


def invalidate_if_scoring_changed(event_name: str, payload: dict[str, Any] | None) -> bool:
    """Drop every scoring cache on a ``config_updated`` event that may have changed scoring.

    That is one for the ``scoring_weights``, ``provider_modifiers`` or ``scoring_preferences``
    section, or one that
    names no section. Returns whether the caches were dropped.
    """
    if event_name != "config_updated":
        return False
    section = (payload or {}).get("section")
    if section is not None and section not in SCORING_SECTIONS:
        return False
    invalidate_scoring_cache()
    return True


# What a read of storage raises when the database is missing, unreachable or unusable.
_STORAGE_ERRORS = (SublarrError, SQLAlchemyError, OSError)


def stored_scoring_cache(what: str, read: Callable[[], T], fallback: T) -> TTLCache[T]:
    """A ``TTLCache`` of ``read()``, a read of scoring storage, for plugins that feed the scorer.

    When ``read`` fails as storage does (a ``SublarrError`` such as ``StorageError``, an
    SQLAlchemy error or an ``OSError``: database not initialised, unreachable), ``fallback``
    is kept for the period instead, so scoring goes on without the stored values; the outage
    is logged once, as ``what``, and so is its end. Any other error is a bug of the caller
    and propagates. ``fallback`` is shared: do not change it.
    """

    def load() -> T:
        try:
            value = read()
        except _STORAGE_ERRORS as exc:  # storage down: score without it
            storage_status.failed(what, exc)
            return fallback
        storage_status.succeeded()
        return value

    return TTLCache(load)
