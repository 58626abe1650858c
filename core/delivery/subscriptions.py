"""Who is subscribed to an event: the enabled hooks and webhooks, cached per event name.

``emit_event`` asks for every event, so the answer is cached: an event nobody subscribed
to costs a dict lookup, not a query. The workers' hook and webhook records are cached the
same way. A cached answer is used while all of these hold:

* no hook or webhook configuration was changed in this process since it was read: the
  code that writes them (``sublarr.core.db.hooks``, and the delivery pipeline for webhook
  options and auto-disable) says so through ``config_generation()``; code that writes the
  tables some other way (raw SQL) calls ``invalidate()``;
* the current database is the one it was read from;
* it is younger than ``SUBLARR_SUBSCRIPTION_CACHE_TTL`` seconds (default 5). This is the
  only bound for changes made by *other processes* (a second server, the CLI): they reach
  this process's emits and workers within that time, not at once.

Before the database has been opened in this process, a missing embedded SQLite file means
no subscriptions (nothing was ever configured); otherwise the database is opened.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import or_, select

from sublarr.core.db import hooks as storage
from sublarr.core.db.engine import current_engine as _current_engine
from sublarr.core.db.engine import get_engine
from sublarr.core.db.models import HookConfig, NotificationTarget, WebhookConfig, WebhookOption
from sublarr.core.delivery.store import load_target

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_monotonic = time.monotonic
_generation = storage.config_generation

# Events a ``*`` webhook does not get: the meta-event about deliveries themselves.
WILDCARD_EXCLUDED = frozenset({"hook_executed"})
_EMPTY: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())


class SubscriptionCache:
    """Per-event ``(hook_ids, webhook_ids)`` and per-``(kind, id)`` records, dropped on changes and by TTL."""

    def __init__(self, ttl: float | None = None) -> None:
        # key -> (config generation, engine, expiry on the monotonic clock, value)
        self._entries: dict[Hashable, tuple[int, Any, float, Any]] = {}
        self._given_ttl = ttl
        self._ttl = ttl  # None: read from the settings at the next refresh
        self._lock = threading.Lock()
        self.queries = 0

    def invalidate(self) -> None:
        """Forget every cached answer (and the TTL read from the settings)."""
        with self._lock:
            self._entries.clear()
            self._ttl = self._given_ttl

    def _ttl_seconds(self) -> float:
        if self._ttl is None:
            from sublarr.core.settings import current_settings

            self._ttl = current_settings().subscription_cache_ttl
        return self._ttl

    def _cached(self, key: Hashable, load: Callable[..., _T], *args: Any) -> _T:
        """The cached value of ``key`` while valid; otherwise ``load(*args)``, cached."""
        entry = self._entries.get(key)
        if (
            entry is not None
            and entry[0] == _generation()
            and entry[1] is _current_engine()
            and entry[2] > _monotonic()
        ):
            cached: _T = entry[3]  # stored by this method under the same key, from the same load
            return cached
        generation = _generation()  # read before loading: a change meanwhile makes the entry stale
        value = load(*args)
        with self._lock:
            self._entries[key] = (generation, _current_engine(), _monotonic() + self._ttl_seconds(), value)
        return value

    def lookup(self, event_name: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """``(hook_ids, webhook_ids)`` subscribed to ``event_name`` (enabled only)."""
        return self._cached(event_name, self._query, event_name)

    def target(self, kind: str, target_id: int) -> dict[str, Any] | None:
        """The hook (``script``) or webhook record a delivery runs (``None`` when deleted)."""
        return self._cached((kind, target_id), load_target, kind, target_id)

    def _query(self, event_name: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        if _current_engine() is None and not _database_exists():
            return _EMPTY
        self.queries += 1
        webhook_match = WebhookConfig.event_name == event_name
        if event_name not in WILDCARD_EXCLUDED:
            webhook_match = or_(webhook_match, WebhookConfig.event_name == storage.WILDCARD_EVENT)
        with get_engine().connect() as conn:
            hooks = conn.execute(
                select(HookConfig.id)
                .where(HookConfig.event_name == event_name, HookConfig.enabled == 1)
                .order_by(HookConfig.id)
            ).scalars()
            webhooks = conn.execute(
                select(WebhookConfig.id)
                .where(webhook_match, WebhookConfig.enabled == 1)
                .order_by(WebhookConfig.id)
            ).scalars()
            return tuple(hooks), tuple(webhooks)

    # -- notification targets and filters (migration 0009) ---------------------------------

    def notifications(self, event_name: str) -> tuple[int, ...]:
        """Ids of the enabled notification targets subscribed to ``event_name``."""
        return self._cached(("notifications of", event_name), self._query_notifications, event_name)

    def filters(self, kind: str) -> dict[int, Any]:
        """``{target_id: CompiledFilter}`` of the ``webhook`` or ``notification`` targets with filters."""
        return self._cached(("filters of", kind), self._query_filters, kind)

    def _query_notifications(self, event_name: str) -> tuple[int, ...]:
        import json

        if _current_engine() is None and not _database_exists():
            return ()
        self.queries += 1
        with get_engine().connect() as conn:
            rows = conn.execute(
                select(NotificationTarget.id, NotificationTarget.events)
                .where(NotificationTarget.enabled == 1)
                .order_by(NotificationTarget.id)
            ).all()
        wildcard_ok = event_name not in WILDCARD_EXCLUDED
        return tuple(
            int(row.id)
            for row in rows
            if event_name in (events := json.loads(row.events or "[]"))
            or (wildcard_ok and storage.WILDCARD_EVENT in events)
        )

    def _query_filters(self, kind: str) -> dict[int, Any]:
        from sublarr.core.delivery.filters import compile_filters, loads

        if _current_engine() is None and not _database_exists():
            return {}
        self.queries += 1
        if kind == "webhook":
            query = select(WebhookOption.webhook_id, WebhookOption.filters)
        elif kind == "notification":
            query = select(NotificationTarget.id, NotificationTarget.filters)
        else:
            return {}
        with get_engine().connect() as conn:
            rows = conn.execute(query).all()
        compiled = {int(target_id): compile_filters(loads(text)) for target_id, text in rows}
        return {target_id: test for target_id, test in compiled.items() if test is not None}


def _database_exists() -> bool:
    """Whether the configured database may hold subscriptions (embedded file present, or a server URL)."""
    from sublarr.core.db.engine import resolve_database_url

    url = resolve_database_url(create_dir=False)
    if url.get_backend_name() != "sqlite":
        return True
    database = url.database or ""
    return database not in ("", ":memory:") and Path(database).expanduser().exists()


cache = SubscriptionCache()


def lookup(event_name: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(hook_ids, webhook_ids)`` subscribed to ``event_name``, from the process cache."""
    return cache.lookup(event_name)


def target(kind: str, target_id: int) -> dict[str, Any] | None:
    """The hook or webhook record a delivery of ``kind`` runs, from the process cache."""
    return cache.target(kind, target_id)


def notifications(event_name: str) -> tuple[int, ...]:
    """Ids of the enabled notification targets subscribed to ``event_name``, from the process cache."""
    return cache.notifications(event_name)


def filters(kind: str) -> dict[int, Any]:
    """``{target_id: CompiledFilter}`` of the targets of ``kind`` that have filters, from the cache."""
    return cache.filters(kind)


def invalidate() -> None:
    """Drop the process cache, after hook/webhook tables were written other than through sublarr."""
    storage.mark_config_changed()  # also makes answers being loaded right now stale
    cache.invalidate()
