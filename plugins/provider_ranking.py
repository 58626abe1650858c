"""Built-in plugin ``provider_ranking``: re-rank providers from what events show (off by default).

Enabled by the scoring preference ``provider_ranking.enabled`` (``sublarr preferences set
provider_ranking.enabled=true``). While enabled it counts, per provider,
``subtitle_downloaded`` (a download), ``provider_failed`` (a failure) and
``upgrade_complete`` (the provider whose download for that file and language was replaced
gets an "upgraded"), and adds to each provider's scores a modifier learned from those
counts (``sublarr.core.scoring.ranking``): at most ``cap`` points either way, none before
``min_sample`` outcomes. It shows in ``explain_score`` as ``plugin:provider_ranking``.

Speed: ``on_event`` only adds to counters in memory; they are written to the
``provider_ranking`` table in one transaction per ``FLUSH_EVENTS`` events or
``FLUSH_SECONDS`` (and before the state is shown or reset). The learned modifiers are a
keyed ``score_modifier_rules`` rule over ``provider_name``, read with the other scoring
tables once per cache period, so scoring neither reads the table nor calls the plugin per
result. Which provider's download an upgrade replaced is remembered in memory only (the
last ``PICKS_MAX`` downloads): an upgrade of a download made before a restart counts for
nobody.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from time import monotonic
from typing import Any

from sublarr.core import hookimpl, only_events
from sublarr.core.scoring import TTLCache, invalidate_if_scoring_changed, stored_scoring_cache
from sublarr.core.scoring.ranking import learned_modifiers, ranking_state

logger = logging.getLogger(__name__)

FLUSH_EVENTS = 50
FLUSH_SECONDS = 10.0
PICKS_MAX = 10_000

_DOWNLOADS, _FAILURES, _UPGRADED = 0, 1, 2
_FIELDS = ("downloads", "failures", "upgraded")


def _read_counts() -> dict[str, dict[str, Any]]:
    from sublarr.core.db.scoring import get_provider_ranking

    return get_provider_ranking()


def _settings() -> dict[str, Any]:
    from sublarr.plugins.preferences import current_preferences

    return current_preferences()["provider_ranking"]


def _pick_key(payload: dict[str, Any]) -> tuple[Any, ...]:
    """Which file and language a download or upgrade was for."""
    where = payload.get("relative_path") or (
        payload.get("media_type"),
        payload.get("series_title") or payload.get("title"),
        payload.get("season"),
        payload.get("episode"),
        payload.get("year"),
    )
    return (where, payload.get("language"))


class ProviderRanking:
    """Counts outcomes per provider from events; scores providers by them while enabled."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, list[int]] = {}
        self._pending_events = 0
        self._last_flush = monotonic()
        self._picks: OrderedDict[tuple[Any, ...], str] = OrderedDict()
        self._counts: TTLCache[dict[str, dict[str, Any]]] = stored_scoring_cache(
            "provider ranking", _read_counts, {}
        )

    # -- learning ----------------------------------------------------------------------------

    @hookimpl
    @only_events("subtitle_downloaded", "upgrade_complete", "provider_failed", "config_updated")
    def on_event(self, event_name: str, payload: dict[str, Any]) -> None:
        if event_name == "config_updated":
            invalidate_if_scoring_changed(event_name, payload)
            return
        provider = payload.get("provider_name")
        if not isinstance(provider, str) or not provider or not _settings()["enabled"]:
            return
        with self._lock:
            if event_name == "provider_failed":
                self._add(provider, _FAILURES)
            else:
                key = _pick_key(payload)
                if event_name == "subtitle_downloaded":
                    self._add(provider, _DOWNLOADS)
                else:  # upgrade_complete: the replaced download's provider was upgraded
                    replaced = self._picks.pop(key, None)
                    if replaced is not None:
                        self._add(replaced, _UPGRADED)
                self._picks[key] = provider
                self._picks.move_to_end(key)
                while len(self._picks) > PICKS_MAX:
                    self._picks.popitem(last=False)
            self._pending_events += 1
            due = self._pending_events >= FLUSH_EVENTS or monotonic() - self._last_flush >= FLUSH_SECONDS
        if due:
            self.flush()

    def _add(self, provider: str, index: int) -> None:
        counts = self._pending.get(provider)
        if counts is None:
            counts = self._pending[provider] = [0, 0, 0]
        counts[index] += 1

    def flush(self) -> None:
        """Write the counts gathered since the last flush (one transaction)."""
        from sublarr.core.db.scoring import add_provider_ranking_counts

        with self._lock:
            pending, self._pending = self._pending, {}
            self._pending_events = 0
            self._last_flush = monotonic()
        if not pending:
            return
        try:
            add_provider_ranking_counts({p: dict(zip(_FIELDS, c, strict=True)) for p, c in pending.items()})
        except Exception:  # storage down: keep the counts for the next flush
            logger.warning(
                "provider ranking: could not store the counts; kept for the next try", exc_info=True
            )
            with self._lock:
                for provider, counts in pending.items():
                    mine = self._pending.setdefault(provider, [0, 0, 0])
                    for i, n in enumerate(counts):
                        mine[i] += n

    def forget(self, provider_name: str | None = None) -> int:
        """Drop what was learned (of one provider, or all), pending counts and picks included."""
        from sublarr.core.db.scoring import reset_provider_ranking

        with self._lock:
            if provider_name is None:
                self._pending.clear()
                self._picks.clear()
            else:
                self._pending.pop(provider_name, None)
                for key in [k for k, v in self._picks.items() if v == provider_name]:
                    del self._picks[key]
            self._pending_events = sum(map(sum, self._pending.values()))
        return reset_provider_ranking(provider_name)

    def state(self) -> dict[str, Any]:
        """The settings and, per provider, the counts, rates and learned modifier (after a flush)."""
        self.flush()
        from sublarr.core.db.scoring import get_provider_ranking

        return ranking_state(get_provider_ranking(), _settings())

    # -- scoring -----------------------------------------------------------------------------

    def learned(self) -> dict[str, int]:
        """Provider -> modifier from the stored and the unwritten counts (none while disabled)."""
        settings = _settings()
        if not settings["enabled"] or not settings["cap"]:
            return {}
        counts = self._counts.get()
        with self._lock:  # counts not written yet count too
            if self._pending:
                counts = {name: dict(values) for name, values in counts.items()}
                for provider, pending in self._pending.items():
                    mine = counts.setdefault(provider, dict.fromkeys(_FIELDS, 0))
                    for name, n in zip(_FIELDS, pending, strict=True):
                        mine[name] += n
        return learned_modifiers(counts, settings["cap"], settings["min_sample"])

    def score_modifier_rules(self) -> tuple[tuple[str, tuple[str], Callable[[Any], int | None]], ...]:
        """One rule over ``provider_name`` (a snapshot of the learned modifiers) or none."""
        learned = self.learned()
        return (("", ("provider_name",), learned.get),) if learned else ()

    @hookimpl
    def score_modifier(self, result: Any, query: Any) -> int | None:
        """The learned modifier of ``result``'s provider, for callers other than the scorer."""
        return self.learned().get(result.provider_name)


ranking = ProviderRanking()
