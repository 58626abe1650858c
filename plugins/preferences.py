"""Built-in plugins ``preferences`` and ``uploader_trust``: the user's scoring preferences.

Each preference is its own source in ``explain_score``:

* ``plugin:preferences.hearing_impaired`` - hearing-impaired subtitles: prefer / exclude /
  only / include;
* ``plugin:preferences.forced`` - forced (foreign parts only) subtitles, the same modes;
* ``plugin:preferences.machine_translated`` - a penalty for machine-translated subtitles,
  or exclusion;
* ``plugin:uploader_trust`` - points per trusted uploader, and the provider-supplied trust
  score.

The rules and defaults are in ``sublarr.core.scoring.preferences``; the values are read from
the database (``sublarr.core.db.scoring.get_scoring_preferences``) once per scoring cache
period. Scoring never reads the database per result. The three flag preferences are
``score_modifier_rules``: lookups on a result attribute that the scorer applies itself,
without a plugin call per result; ``uploader_trust`` is called per result only while an
uploader or the provider trust is set (bench/score.py 1.). With every preference at
``include`` neither costs anything per result. If the database cannot be read, no
preference applies (the outage is logged once).
"""

from __future__ import annotations

from typing import Any

from sublarr.core import hookimpl, only_events
from sublarr.core.scoring import TTLCache, invalidate_if_scoring_changed, stored_scoring_cache
from sublarr.core.scoring.cache import on_scoring_invalidated
from sublarr.core.scoring.preferences import default_preferences


def _read() -> dict[str, dict[str, Any]]:
    from sublarr.core.db.scoring import get_scoring_preferences

    return get_scoring_preferences()


_stored: TTLCache[dict[str, dict[str, Any]]] = stored_scoring_cache(
    "scoring preferences", _read, default_preferences()
)


def current_preferences() -> dict[str, dict[str, Any]]:
    """The preferences in force for this cache period (defaults when storage is down)."""
    return _stored.get()


def _flag_points(section: dict[str, Any]) -> tuple[int, int]:
    """``(points when the flag is false, points when true)`` for a hearing-impaired/forced mode."""
    mode = section["mode"]
    if mode == "prefer":
        return 0, section["prefer_points"]
    if mode == "exclude":
        return 0, section["exclude_points"]
    if mode == "only":
        return section["exclude_points"], 0
    return 0, 0


def preference_rules(prefs: dict[str, dict[str, Any]]) -> tuple[tuple[str, str, int, int], ...]:
    """The hearing-impaired, forced and machine-translated rules that add anything:
    ``(part, result attribute, points if false, points if true)``."""
    mt = prefs["machine_translated"]
    mt_points = {"penalty": mt["penalty_points"], "exclude": mt["exclude_points"]}.get(mt["mode"], 0)
    rules = (
        ("hearing_impaired", "hearing_impaired", *_flag_points(prefs["hearing_impaired"])),
        ("forced", "forced", *_flag_points(prefs["forced"])),
        ("machine_translated", "machine_translated", 0, mt_points),
    )
    return tuple(rule for rule in rules if rule[2] or rule[3])


class _Invalidating:
    @hookimpl
    @only_events("config_updated")
    def on_event(self, event_name: str, payload: dict[str, Any]) -> None:
        invalidate_if_scoring_changed(event_name, payload)


class Preferences(_Invalidating):
    """Hearing-impaired, forced and machine-translated preferences, as rules the scorer applies."""

    def score_modifier_rules(self) -> tuple[tuple[str, str, int, int], ...]:
        """This period's rules (none while every preference is ``include``)."""
        return preference_rules(current_preferences())

    @hookimpl
    def score_modifier(self, result: Any, query: Any) -> int | None:
        """The same rules' points for one result, for callers other than the scorer."""
        points = sum(
            if_true if getattr(result, attribute) else if_false
            for _, attribute, if_false, if_true in self.score_modifier_rules()
        )
        return points or None


class UploaderTrust(_Invalidating):
    """Points per trusted uploader (names compared ignoring case) and for the provider's trust score."""

    def __init__(self) -> None:
        self._rule: tuple[dict[str, int], int] | None = None
        on_scoring_invalidated(self._forget)

    def _forget(self) -> None:
        self._rule = None

    def _compile(self) -> tuple[dict[str, int], int] | None:
        section = current_preferences()["uploader_trust"]
        uploaders = {name.casefold(): points for name, points in section["uploaders"].items() if points}
        cap = section["provider_trust_max"] if section["provider_trust"] else 0
        self._rule = (uploaders, cap) if uploaders or cap else None
        return self._rule

    def score_modifier_rules(self) -> tuple[()] | None:
        """``None`` (call ``score_modifier`` per result) when set, else no rules: nothing to add."""
        return None if self._compile() is not None else ()

    @hookimpl
    def score_modifier(self, result: Any, query: Any) -> int | None:
        rule = self._rule or self._compile()
        if rule is None:
            return None
        uploaders, cap = rule
        points = 0
        name = result.uploader_name
        if name and uploaders:
            points = uploaders.get(name.casefold(), 0)
        trust = result.uploader_trust
        if cap and trust and trust > 0:
            trust = int(trust)
            points += trust if trust < cap else cap
        return points or None


preferences = Preferences()
uploader_trust = UploaderTrust()
