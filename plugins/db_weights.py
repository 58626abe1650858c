"""Built-in plugin: the user's stored scoring weights, read from the database.

Supplies ``scoring_weights`` from ``sublarr.core.db.scoring.get_scoring_weights``, kept for
the scoring TTL (``SUBLARR_SCORING_CACHE_TTL``). It runs last (``trylast``) so the user's
stored values win over weights from other plugins. It declares no weight keys: stored
values for keys that neither the defaults nor a plugin declare any more are ignored.

If the database cannot be read (not initialised, unreachable), it supplies nothing, so the
defaults apply; the outage is logged once. A ``config_updated`` event for the scoring
sections drops every scoring cache, this plugin's included.
"""

from __future__ import annotations

from typing import Any

from sublarr.core import hookimpl, only_events
from sublarr.core.scoring import SCORE_TYPES, TTLCache, invalidate_if_scoring_changed, stored_scoring_cache


def _read() -> dict[str, dict[str, int]]:
    from sublarr.core.db.scoring import get_scoring_weights

    return {score_type: get_scoring_weights(score_type) for score_type in SCORE_TYPES}


class DBWeights:
    """Stored weight overrides per score type, cached."""

    def __init__(self) -> None:
        self._stored: TTLCache[dict[str, dict[str, int]]] = stored_scoring_cache("scoring weights", _read, {})

    @hookimpl(trylast=True)
    def scoring_weights(self, score_type: str) -> dict[str, int] | None:
        return self._stored.get().get(score_type) or None

    @hookimpl
    @only_events("config_updated")
    def on_event(self, event_name: str, payload: dict[str, Any]) -> None:
        invalidate_if_scoring_changed(event_name, payload)


weights = DBWeights()
