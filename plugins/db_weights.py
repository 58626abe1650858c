"""Built-in plugin: the user's stored scoring weights, read from the database.

Supplies ``scoring_weights`` from ``sublarr.core.db.scoring.get_scoring_weights``, kept for
the scoring TTL (``SUBLARR_SCORING_CACHE_TTL``). It runs last (``trylast``) so the user's
stored values win over weights from other plugins, and it only re-values keys that the
defaults or another plugin define (``defines_weight_keys = False``).

If the database cannot be read (not initialised, unreachable), it supplies nothing, so the
defaults apply; the outage is logged once. A ``config_updated`` event for the scoring
sections drops every scoring cache, this plugin's included.
"""

from __future__ import annotations

import logging
from typing import Any

from sublarr.core import hookimpl, only_events
from sublarr.core.scoring.cache import (
    TTLCache,
    invalidate_scoring_cache,
    is_scoring_change,
    storage_status,
)
from sublarr.core.scoring.compute import SCORE_TYPES

logger = logging.getLogger(__name__)


class DBWeights:
    """Stored weight overrides per score type, cached."""

    defines_weight_keys = False

    def __init__(self) -> None:
        self._cache: TTLCache[dict[str, dict[str, int]]] = TTLCache(self._load)

    def _load(self) -> dict[str, dict[str, int]]:
        try:
            from sublarr.core.db.scoring import get_scoring_weights

            stored = {score_type: dict(get_scoring_weights(score_type)) for score_type in SCORE_TYPES}
        except Exception as exc:  # noqa: BLE001 - no database: score with the defaults
            storage_status.failed("scoring weights", exc)
            return {}
        storage_status.succeeded()
        logger.debug("loaded stored scoring weights: %r", stored)
        return stored

    def stored(self) -> dict[str, dict[str, int]]:
        """The stored overrides by score type, as cached now."""
        return self._cache.get()

    @hookimpl(trylast=True)
    def scoring_weights(self, score_type: str) -> dict[str, int] | None:
        return self._cache.get().get(score_type) or None

    @hookimpl
    @only_events("config_updated")
    def on_event(self, event_name: str, payload: dict[str, Any]) -> None:
        if is_scoring_change(event_name, payload):
            invalidate_scoring_cache()


weights = DBWeights()
