"""Provider re-ranking from history: what the built-in ``provider_ranking`` plugin learned.

The plugin (``sublarr.plugins.provider_ranking``) counts, per provider, the
``subtitle_downloaded`` events (downloads), the ``provider_failed`` events (failures) and
the ``upgrade_complete`` events that replaced one of its downloads (upgraded), in the
``provider_ranking`` table. From them each provider gets a modifier::

    outcomes = downloads + failures                (nothing before min_sample outcomes)
    quality  = downloads / outcomes * (1 - upgraded / downloads)        in 0..1
    modifier = round(cap * (2 * quality - 1))                            in -cap..+cap

so a provider whose downloads never fail and are never upgraded gets ``+cap``, one that
only fails ``-cap``. ``cap``, ``min_sample`` and ``enabled`` are the ``provider_ranking``
scoring preference (off by default).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["current_ranking", "forget_ranking", "learned_modifier", "learned_modifiers", "ranking_state"]


def learned_modifier(downloads: int, failures: int, upgraded: int, cap: int, min_sample: int) -> int:
    """The modifier for one provider's counts (0 before ``min_sample`` outcomes)."""
    outcomes = downloads + failures
    if outcomes < min_sample or outcomes <= 0 or cap <= 0:
        return 0
    upgrade_rate = min(upgraded, downloads) / downloads if downloads else 0.0
    quality = downloads / outcomes * (1.0 - upgrade_rate)
    points = round(cap * (2.0 * quality - 1.0))
    return max(-cap, min(cap, points))


def learned_modifiers(counts: Mapping[str, Mapping[str, Any]], cap: int, min_sample: int) -> dict[str, int]:
    """Provider -> modifier, for the providers with a non-zero one."""
    learned = {}
    for provider, c in counts.items():
        points = learned_modifier(c["downloads"], c["failures"], c["upgraded"], cap, min_sample)
        if points:
            learned[provider] = points
    return learned


def ranking_state(counts: Mapping[str, Mapping[str, Any]], settings: Mapping[str, Any]) -> dict[str, Any]:
    """What is learned, for people: the settings and, per provider, its counts, rates and modifier."""
    cap, min_sample = settings["cap"], settings["min_sample"]
    providers = {}
    for provider, c in counts.items():
        downloads, failures, upgraded = c["downloads"], c["failures"], c["upgraded"]
        outcomes = downloads + failures
        providers[provider] = {
            "downloads": downloads,
            "failures": failures,
            "upgraded": upgraded,
            "success_rate": round(downloads / outcomes, 4) if outcomes else None,
            "upgrade_rate": round(min(upgraded, downloads) / downloads, 4) if downloads else None,
            "sampled": outcomes >= min_sample,
            "modifier": learned_modifier(downloads, failures, upgraded, cap, min_sample)
            if settings["enabled"]
            else 0,
            "updated_at": c.get("updated_at"),
        }
    return {
        "enabled": settings["enabled"],
        "cap": cap,
        "min_sample": min_sample,
        "providers": providers,
    }


def _plugin() -> Any:
    """The loaded ``provider_ranking`` plugin (holding unwritten counts), or None."""
    from sublarr.core.plugin_manager import get_plugin_manager

    plugin = get_plugin_manager().get_plugin("provider_ranking")
    return plugin if callable(getattr(plugin, "state", None)) else None


def current_ranking() -> dict[str, Any]:
    """The learned state now (``ranking_state``), counts not yet written included."""
    plugin = _plugin()
    if plugin is not None:
        state: dict[str, Any] = plugin.state()
        return state
    from sublarr.core.db.scoring import get_provider_ranking, get_scoring_preferences

    return ranking_state(get_provider_ranking(), get_scoring_preferences()["provider_ranking"])


def forget_ranking(provider_name: str | None = None) -> int:
    """Forget what was learned (of one provider, or all); returns the providers forgotten."""
    plugin = _plugin()
    if plugin is not None:
        removed: int = plugin.forget(provider_name)
        return removed
    from sublarr.core.db.scoring import reset_provider_ranking

    return reset_provider_ranking(provider_name)
