"""Built-in plugin: the stored per-provider score modifiers, read from the database.

Supplies ``provider_modifiers`` from ``sublarr.core.db.scoring.get_all_provider_modifiers``:
all modifiers at once, kept for the scoring TTL (``SUBLARR_SCORING_CACHE_TTL``), so scoring
never reads the database per result. Each shows in a score's breakdown as
``provider:<provider name>``.

If the database cannot be read, no modifier applies and the outage is logged once. A
``config_updated`` event for the scoring sections drops every scoring cache, this
plugin's included.
"""

from __future__ import annotations

from typing import Any

from sublarr.core import hookimpl, only_events
from sublarr.core.scoring import TTLCache, invalidate_if_scoring_changed, stored_scoring_cache


def _read() -> dict[str, int]:
    from sublarr.core.db.scoring import get_all_provider_modifiers

    return get_all_provider_modifiers()


class ProviderModifiers:
    """Stored modifiers by provider name, cached."""

    def __init__(self) -> None:
        self._stored: TTLCache[dict[str, int]] = stored_scoring_cache("provider modifiers", _read, {})

    @hookimpl
    def provider_modifiers(self) -> dict[str, int] | None:
        return self._stored.get() or None

    @hookimpl
    @only_events("config_updated")
    def on_event(self, event_name: str, payload: dict[str, Any]) -> None:
        invalidate_if_scoring_changed(event_name, payload)


modifiers = ProviderModifiers()
