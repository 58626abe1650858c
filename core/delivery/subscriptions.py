"""Who is subscribed to an event: the enabled hooks and webhooks, cached per event name.

``emit_event`` asks for every event, so the answer is cached: an event nobody subscribed
to costs a dict lookup, not a query. The cache is dropped whenever a statement that adds,
deletes, enables, disables or re-targets a hook or webhook is committed in this process
(watched on every SQLAlchemy engine), when the current database changes, and after
``SUBLARR_SUBSCRIPTION_CACHE_TTL`` seconds (for writes made by other processes).

Before the database has been opened in this process, a missing embedded SQLite file means
no subscriptions (nothing was ever configured); otherwise the database is opened.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from sublarr.core.db.engine import current_engine as _current_engine

logger = logging.getLogger(__name__)
_monotonic = time.monotonic

_EMPTY: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())
_DIRTY_KEY = "sublarr_subscriptions_dirty"


class SubscriptionCache:
    """Per-event ``(hook_ids, webhook_ids)``, invalidated by generation and TTL."""

    def __init__(self, ttl: float | None = None) -> None:
        self._entries: dict[str, tuple[int, Any, float, tuple[tuple[int, ...], tuple[int, ...]]]] = {}
        self._ttl = ttl
        self._lock = threading.Lock()
        self.generation = 0
        self.queries = 0

    def invalidate(self) -> None:
        """Forget every cached answer."""
        with self._lock:
            self.generation += 1
            self._entries.clear()

    def _ttl_seconds(self) -> float:
        if self._ttl is None:
            from sublarr.core.settings import load_settings

            self._ttl = load_settings().subscription_cache_ttl
        return self._ttl

    def lookup(self, event_name: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """``(hook_ids, webhook_ids)`` subscribed to ``event_name`` (enabled only)."""
        entry = self._entries.get(event_name)
        if (
            entry is not None
            and entry[0] == self.generation
            and entry[1] is _current_engine()
            and entry[2] > _monotonic()
        ):
            return entry[3]
        return self._refresh(event_name)

    def _refresh(self, event_name: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        engine = _current_engine()  # None before init_db
        generation = self.generation
        answer = self._query(event_name, engine)
        with self._lock:
            if generation == self.generation:
                self._entries[event_name] = (
                    generation,
                    _current_engine(),
                    _monotonic() + self._ttl_seconds(),
                    answer,
                )
        return answer

    def _query(self, event_name: str, engine: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
        if engine is None and not _database_exists():
            return _EMPTY
        from sublarr.core.delivery.store import subscribers

        self.queries += 1
        hooks, webhooks = subscribers(event_name)
        return tuple(hooks), tuple(webhooks)


def _database_exists() -> bool:
    """Whether the configured database may hold subscriptions (embedded file present, or a server URL)."""
    from sublarr.core.db.engine import resolve_database_url

    url = resolve_database_url(create_dir=False)
    if url.get_backend_name() != "sqlite":
        return True
    database = url.database or ""
    return database not in ("", ":memory:") and Path(database).expanduser().exists()


cache = SubscriptionCache()


class TargetCache:
    """Hook and webhook records by ``(kind, id)`` for the workers, dropped with the subscriptions."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, int], tuple[int, Any, float, dict[str, Any] | None]] = {}

    def get(self, kind: str, target_id: int) -> dict[str, Any] | None:
        """The record (``None`` when deleted), from the cache or the database."""
        from sublarr.core.delivery.store import load_target

        key = (kind, target_id)
        engine = _current_engine()
        entry = self._entries.get(key)
        if (
            entry is not None
            and entry[0] == cache.generation
            and entry[1] is engine
            and entry[2] > time.monotonic()
        ):
            return entry[3]
        generation = cache.generation
        record = load_target(kind, target_id)
        if generation == cache.generation:
            self._entries[key] = (generation, engine, time.monotonic() + cache._ttl_seconds(), record)
        return record


targets = TargetCache()


def lookup(event_name: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(hook_ids, webhook_ids)`` subscribed to ``event_name``, from the process cache."""
    return cache.lookup(event_name)


def invalidate() -> None:
    """Drop the process cache (called automatically on writes to the hook/webhook tables)."""
    cache.invalidate()


_CONFIG_COLUMN = re.compile(
    r"\b(name|event_name|enabled|script_path|timeout_seconds|url|secret|retry_count|method|headers)\s*="
)


def touches_subscriptions(statement: str) -> bool:
    """Whether a SQL statement may change a hook's or webhook's subscription or configuration.

    Updates of trigger statistics alone (counts, last status, failure count) do not.
    """
    if "hook_configs" not in statement and "webhook_options" not in statement:  # also webhook_configs
        return False
    head = statement.lstrip()[:6].upper()
    if head == "SELECT":
        return False
    if head == "UPDATE":
        assignments = statement.split(" SET ", 1)[-1].split(" WHERE ", 1)[0]
        return _CONFIG_COLUMN.search(assignments) is not None
    return True


@event.listens_for(Engine, "after_cursor_execute")
def _after_execute(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
    if touches_subscriptions(statement):
        conn.info[_DIRTY_KEY] = True
        cache.invalidate()


@event.listens_for(Engine, "commit")
def _after_commit(conn: Any) -> None:
    if conn.info.pop(_DIRTY_KEY, False):
        cache.invalidate()


@event.listens_for(Engine, "rollback")
def _after_rollback(conn: Any) -> None:
    if conn.info.pop(_DIRTY_KEY, False):
        cache.invalidate()
