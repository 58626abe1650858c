"""Built-in plugin: the stored per-provider score modifiers, read from the database.

Adds the modifier stored for ``result.provider_name``
(``sublarr.core.db.scoring.get_all_provider_modifiers``) to each score. All modifiers are
read at once and kept for the scoring TTL (``SUBLARR_SCORING_CACHE_TTL``), so scoring never
reads the database per result. It also offers ``provider_modifier_table()``, which lets
the scorer apply the modifiers as a table lookup instead of a hook call per result; the
term is named ``provider:<provider name>``.

If the database cannot be read, no modifier applies and the outage is logged once. A
``config_updated`` event for the scoring sections drops every scoring cache, this
plugin's included.
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

logger = logging.getLogger(__name__)


class ProviderModifiers:
    """Stored modifiers by provider name, cached."""

    def __init__(self) -> None:
        self._cache: TTLCache[dict[str, int]] = TTLCache(self._load)

    def _load(self) -> dict[str, int]:
        try:
            from sublarr.core.db.scoring import get_all_provider_modifiers

            table = {str(name): int(value) for name, value in get_all_provider_modifiers().items()}
        except Exception as exc:  # noqa: BLE001 - no database: score without modifiers
            storage_status.failed("provider modifiers", exc)
            return {}
        storage_status.succeeded()
        logger.debug("loaded %d provider modifier(s)", len(table))
        return table

    def provider_modifier_table(self) -> dict[str, int]:
        """``{provider_name: modifier}``; ``score_modifier`` returns ``table.get(provider_name)``."""
        return self._cache.get()

    @hookimpl
    def score_modifier(self, result: Any) -> int | None:
        return self._cache.get().get(result.provider_name) or None

    @hookimpl
    @only_events("config_updated")
    def on_event(self, event_name: str, payload: dict[str, Any]) -> None:
        if is_scoring_change(event_name, payload):
            invalidate_scoring_cache()


modifiers = ProviderModifiers()
