"""Subtitle scoring: ``compute_score``, ``score_many``, ``explain_score``.

How a score is made::

    weights = defaults (sublarr.core.scoring.weights), keys declared by ``weight_keys`` hooks
              (worth 0), then each ``scoring_weights`` hook result merged over them
              (the built-in DB-weights plugin runs last: the user's stored weights win)
    score   = sum of weights[key] for key in result.matches
            + weights["format_bonus"] for an ASS/SSA subtitle
            + the ``provider_modifiers`` hooks' points for result.provider_name
            + each ``score_modifier`` hook result

``result.score`` and ``result.score_breakdown`` are set; each breakdown term names its
source: a weight key (``"hash"``), ``"format_bonus"``, ``"provider:<provider name>"`` for a
per-provider modifier, ``"plugin:<plugin name>"`` for a ``score_modifier`` plugin's points,
``"plugin:<plugin name>.<part>"`` for a rule of a plugin that scores by rules
(``score_modifier_rules``, see ``_resolve_modifiers``).

Speed: the merged weight tables, the per-provider modifiers and the list of
``score_modifier`` implementations are resolved together, once per
``SUBLARR_SCORING_CACHE_TTL`` period, and again when plugins are (un)registered or
``invalidate_scoring_cache()`` is called (see ``sublarr.core.scoring.cache``). Only
``score_modifier`` runs per result. While one thread re-reads expired tables, other
threads keep scoring with the expired ones instead of waiting; after an invalidation every
thread waits for the fresh tables.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter
from time import monotonic
from typing import Any

from sublarr.core.errors import ValidationError
from sublarr.core.plugin_manager import Implementation, SublarrPluginManager, get_plugin_manager
from sublarr.core.scoring.cache import TTLCache, on_scoring_invalidated, stored_scoring_cache
from sublarr.core.scoring.models import ASS_FORMATS, SubtitleResult, VideoQuery
from sublarr.core.scoring.validation import (
    check_points,
    check_weights,
    declared_weight_keys,
    validate_provider_modifiers,
    validate_score_type,
)
from sublarr.core.scoring.weights import DEFAULT_WEIGHTS, FORMAT_BONUS

__all__ = [
    "compute_score",
    "describe_weights",
    "effective_weights",
    "explain_score",
    "format_explanation",
    "min_score_points",
    "score_many",
]

logger = logging.getLogger(__name__)

DEFAULT_SOURCE = "default"
PROVIDER_TERM = "provider:"
PLUGIN_TERM = "plugin:"


# -- the resolved configuration ---------------------------------------------------------------


class _Table:
    """The merged weights of one score type."""

    __slots__ = ("format_bonus", "match_weights", "max_score", "score_type", "sources", "weights")

    def __init__(self, score_type: str, weights: dict[str, int], sources: dict[str, str]) -> None:
        self.score_type = score_type
        self.weights = weights
        self.sources = sources
        self.match_weights = {k: v for k, v in weights.items() if k != FORMAT_BONUS}
        self.format_bonus = weights.get(FORMAT_BONUS, 0)
        # The highest score matches can give: a hash match stands for all the others
        # (subliminal's convention), so the larger of the hash weight and the sum of the
        # other positive weights; the format bonus, modifiers and plugins are not counted.
        others = sum(v for k, v in self.match_weights.items() if k != "hash" and v > 0)
        self.max_score = max(self.match_weights.get("hash", 0), others)


class _State:
    """Everything compute_score needs, resolved once per cache period."""

    __slots__ = (
        "episode",
        "expires",
        "generation",
        "min_score",
        "modifiers",
        "movie",
        "pm",
        "provider_sources",
        "providers",
        "rule_points",
        "rule_values",
        "rules",
    )

    def __init__(self, pm: SublarrPluginManager) -> None:
        self.pm = pm
        self.generation = pm.generation
        self.expires = monotonic() + float(pm.settings.scoring_cache_ttl)
        self.episode = _resolve_table(pm, "episode")
        self.movie = _resolve_table(pm, "movie")
        # provider -> (term, points) and provider -> [(plugin, points)]
        self.providers, self.provider_sources = _resolve_providers(pm)
        # their results are stored in the breakdown as plugin:<plugin name>
        self.modifiers, self.rules = _resolve_modifiers(pm)
        # per result: one attrgetter call fetches every rule's attribute (as a tuple)
        self.rule_points = tuple(rule[1:] for rule in self.rules)
        self.rule_values = _values_getter([rule[0] for rule in self.rules])
        self.min_score = _stored_min_scores()

    def table(self, score_type: str) -> _Table:
        return self.episode if score_type == "episode" else self.movie


RULES_ATTRIBUTE = "score_modifier_rules"

# (result attribute, term, points when it is false, points when true)
Rule = tuple[str, str, int, int]


def _resolve_modifiers(pm: SublarrPluginManager) -> tuple[tuple[Implementation, ...], tuple[Rule, ...]]:
    """The ``score_modifier`` implementations to call per result this period, and the rules
    the scorer applies itself instead of calling a plugin.

    A plugin may define ``score_modifier_rules()``, asked once per cache period. ``None``:
    call its ``score_modifier`` per result as usual. A sequence of ``(part, attribute,
    points_if_false, points_if_true)``: its ``score_modifier`` is not called; for each
    rule the scorer adds the points for the truth of ``result.<attribute>`` as the term
    ``plugin:<plugin name>.<part>`` (an empty sequence: the plugin adds nothing this
    period). The built-in ``preferences`` plugin scores this way (bench/score.py 1.). A
    plugin whose answer raises or is malformed is reported and called per result.
    """
    called: list[Implementation] = []
    rules: list[Rule] = []
    for impl in pm.implementations("score_modifier", PLUGIN_TERM):
        ask = getattr(impl[6].plugin, RULES_ATTRIBUTE, None)
        if ask is None:
            called.append(impl)
            continue
        try:
            answer = ask()
            if answer is None:
                called.append(impl)
                continue
            clean = []
            for part, attribute, if_false, if_true in answer:
                if not (isinstance(part, str) and isinstance(attribute, str)):
                    raise TypeError(f"rule {part!r}: part and attribute are names")
                check_points(f"{part}.points", if_false)
                check_points(f"{part}.points", if_true)
                if if_false or if_true:
                    clean.append((attribute, f"{impl[0]}.{part}", if_false, if_true))
        except Exception as exc:  # noqa: BLE001 - isolate the plugin; it is called per result
            pm.record_error(impl[1], RULES_ATTRIBUTE, f"raised {exc!r}", exc_info=exc)
            called.append(impl)
            continue
        rules.extend(clean)
    return tuple(called), tuple(rules)


def _values_getter(names: list[str]) -> Callable[[SubtitleResult], tuple[Any, ...]]:
    """A function returning the attributes ``names`` of a result, as a tuple."""
    if len(names) > 1:
        getter: Callable[[SubtitleResult], tuple[Any, ...]] = attrgetter(*names)
        return getter
    if names:
        name = names[0]
        return lambda result: (getattr(result, name),)
    return lambda result: ()


def _read_min_scores() -> dict[str, int]:
    from sublarr.core.db.scoring import get_scoring_preferences

    return dict(get_scoring_preferences()["min_score"])


def _stored_min_scores() -> dict[str, int]:
    """The stored cut-off per score type (percent), read with the tables; none when storage is down."""
    global _min_score_cache
    if _min_score_cache is None:
        _min_score_cache = stored_scoring_cache("minimum scores", _read_min_scores, {})
    return _min_score_cache.get()


_min_score_cache: TTLCache[dict[str, int]] | None = None


def _resolve_table(pm: SublarrPluginManager, score_type: str) -> _Table:
    weights = dict(DEFAULT_WEIGHTS[score_type])
    sources = dict.fromkeys(weights, DEFAULT_SOURCE)
    for key, plugin_name in declared_weight_keys(pm, score_type).items():
        if key not in weights:
            weights[key] = 0
            sources[key] = plugin_name
    for plugin_name, answer in pm.call_hook("scoring_weights", score_type=score_type):
        try:
            clean = check_weights(score_type, answer, None)
        except ValidationError as exc:
            pm.record_error(plugin_name, "scoring_weights", f"bad {score_type} weights: {exc}")
            continue
        for key, value in clean.items():  # in call order: later plugins win
            if key not in weights:
                logger.debug(
                    "ignoring %s weight %r of %s: neither a default nor a weight_keys hook declares it",
                    score_type,
                    key,
                    plugin_name,
                )
                continue
            weights[key] = value
            sources[key] = plugin_name
    return _Table(score_type, weights, sources)


def _resolve_providers(
    pm: SublarrPluginManager,
) -> tuple[dict[str, tuple[str, int]], dict[str, list[tuple[str, int]]]]:
    points: dict[str, int] = {}
    sources: dict[str, list[tuple[str, int]]] = {}
    for plugin_name, table in pm.call_hook("provider_modifiers"):
        try:
            clean = validate_provider_modifiers(table)
        except ValidationError as exc:
            pm.record_error(plugin_name, "provider_modifiers", f"bad modifiers: {exc}")
            continue
        for provider, value in clean.items():
            if value:
                sources.setdefault(provider, []).append((plugin_name, value))
                points[provider] = points.get(provider, 0) + value
    return {provider: (f"{PROVIDER_TERM}{provider}", value) for provider, value in points.items()}, sources


_state: _State | None = None
_epoch = 0  # bumped by every invalidation: a rebuild that saw an older epoch is not kept
_state_lock = threading.RLock()  # one rebuild at a time (reentrant: hooks may score)
_publish_lock = threading.Lock()  # short: publishing or dropping _state, never held during hooks


@on_scoring_invalidated
def _drop_state() -> None:
    global _state, _epoch
    with _publish_lock:
        _epoch += 1
        _state = None


# A state is current while it has the plugin manager's generation (unique across managers:
# same manager, same plugins) and has not expired.


def _current_state() -> _State:
    pm = get_plugin_manager()
    state = _state
    if state is not None and state.generation == pm.generation and monotonic() < state.expires:
        return state
    return _rebuild(pm)


def _rebuild(pm: SublarrPluginManager) -> _State:
    stale = _state
    if stale is not None and stale.generation == pm.generation:
        # Only expired: while another thread re-reads the configuration (maybe waiting on
        # a slow database), keep scoring with the tables of the period that just ended.
        if not _state_lock.acquire(blocking=False):
            return stale
    else:
        _state_lock.acquire()
    try:
        return _rebuild_locked(pm)
    finally:
        _state_lock.release()


def _rebuild_locked(pm: SublarrPluginManager) -> _State:
    global _state
    state = _state
    if state is not None and state.generation == pm.generation and monotonic() < state.expires:
        return state  # another thread rebuilt it meanwhile
    epoch = _epoch
    state = _State(pm)
    with _publish_lock:
        if epoch == _epoch:  # not invalidated while the hooks ran
            _state = state
    logger.debug(
        "scoring tables resolved: %d provider modifiers, %d per-result modifier(s), %d rule(s)",
        len(state.providers),
        len(state.modifiers),
        len(state.rules),
    )
    return state


# -- scoring ----------------------------------------------------------------------------------


def _score_all(state: _State, table: _Table, results: Iterable[SubtitleResult], query: VideoQuery) -> None:
    """Score each result in place: the one implementation behind every public entry point.

    The score is the sum of the breakdown's terms.
    """
    weights = table.match_weights
    bonus = table.format_bonus
    providers = state.providers
    modifiers = state.modifiers
    rules = state.rule_points
    rule_values = state.rule_values
    wanted_group = query.release_group
    if modifiers:
        call = state.pm.call_implementations
        kwargs: dict[str, Any] = {"result": None, "query": query}
    for result in results:
        if (
            result.release_group
            and wanted_group
            and result.release_group.casefold() == wanted_group.casefold()
        ):
            result.matches.add("release_group")  # derived (models.derived_matches)
        breakdown = {key: weights[key] for key in result.matches if key in weights}
        if bonus and result.format and result.format.lower() in ASS_FORMATS:
            breakdown[FORMAT_BONUS] = bonus
        provider = providers.get(result.provider_name)
        if provider is not None:
            breakdown[provider[0]] = provider[1]
        if rules:
            for (term, if_false, if_true), flag in zip(rules, rule_values(result)):
                points = if_true if flag else if_false
                if points:
                    breakdown[term] = points
        if modifiers:
            kwargs["result"] = result
            call("score_modifier", modifiers, kwargs, breakdown)
        result.score = sum(breakdown.values())
        result.score_breakdown = breakdown


def compute_score(result: SubtitleResult, query: VideoQuery) -> int:
    """Score ``result`` as a subtitle for ``query``; set ``result.score`` and ``result.score_breakdown``.

    A plugin that raises or returns a non-int is skipped and counted in the plugin
    manager's ``error_counts``; the score is returned all the same.
    """
    state = _current_state()
    _score_all(state, state.episode if query.is_episode else state.movie, (result,), query)
    return result.score


def check_min_score(min_score: Any) -> int:
    """A minimum score: a whole percentage 0..100 (0 keeps everything)."""
    if type(min_score) is not int or not 0 <= min_score <= 100:
        raise ValidationError("min_score", f"expected a whole percentage 0..100, got {min_score!r}")
    return min_score


def _threshold(state: _State, table: _Table, min_score: int | None) -> tuple[int, int]:
    """``(percent, points)`` of the cut-off for ``table``: ``min_score`` or the stored one."""
    percent = state.min_score.get(table.score_type, 0) if min_score is None else check_min_score(min_score)
    return percent, -(-percent * table.max_score // 100)  # rounded up


def min_score_points(score_type: str, min_score: int | None = None) -> int:
    """The points a result of ``score_type`` needs: ``min_score`` percent (default: the stored
    setting) of the highest possible score, rounded up."""
    state = _current_state()
    return _threshold(state, state.table(validate_score_type(score_type)), min_score)[1]


def score_many(
    results: Iterable[SubtitleResult], query: VideoQuery, min_score: int | None = None
) -> list[SubtitleResult]:
    """Score every result of one search for ``query``; return them best first.

    Results with equal scores keep their input order. Results scoring under the cut-off
    are left out: ``min_score`` percent (0..100) of the highest possible score of the score
    type (the larger of the hash weight and the sum of the other positive weights); when
    ``min_score`` is ``None`` the stored setting (preferences ``min_score``) applies, and
    0 keeps everything. ``explain_score`` says whether a result is under it.
    """
    ranked = list(results)
    if not ranked:
        if min_score is not None:
            check_min_score(min_score)
        return ranked
    state = _current_state()
    table = state.episode if query.is_episode else state.movie
    percent, points = _threshold(state, table, min_score)
    _score_all(state, table, ranked, query)
    ranked.sort(key=attrgetter("score"), reverse=True)
    if percent:
        kept = [r for r in ranked if r.score >= points]
        if len(kept) != len(ranked):
            logger.debug(
                "%d of %d results under the minimum score %d (%d%% of %d) dropped",
                len(ranked) - len(kept),
                len(ranked),
                points,
                percent,
                table.max_score,
            )
        return kept
    return ranked


def effective_weights(score_type: str) -> dict[str, int]:
    """The weights scoring uses now for ``score_type``: defaults with every plugin's overrides."""
    return dict(_current_state().table(validate_score_type(score_type)).weights)


def describe_weights(score_type: str) -> list[dict[str, Any]]:
    """Each weight key of ``score_type`` as ``{key, default, value, source}``, defaults first."""
    table = _current_state().table(validate_score_type(score_type))
    defaults = DEFAULT_WEIGHTS[score_type]
    keys = [*defaults, *sorted(k for k in table.weights if k not in defaults)]
    return [
        {"key": key, "default": defaults.get(key), "value": table.weights[key], "source": table.sources[key]}
        for key in keys
    ]


# -- explaining -------------------------------------------------------------------------------


def explain_score(result: SubtitleResult, query: VideoQuery, min_score: int | None = None) -> dict[str, Any]:
    """Score ``result`` (as ``compute_score`` does) and say where every point came from.

    Returns ``{"provider_name", "subtitle_id", "score_type", "total", "terms", "weights",
    "weight_sources", "ignored_matches", "min_score"}``: ``terms`` is a list of ``{"term",
    "points", "source"}`` (source: ``"default"`` or the plugin that supplied the value),
    ``weights`` the weight table used, ``ignored_matches`` the matches no weight exists for,
    ``min_score`` the cut-off ``score_many`` applies (``min_score`` percent, default the
    stored one): ``{"percent", "points", "max_score", "dropped"}``, ``dropped`` true when
    the result is under it. Render it for people with ``format_explanation``.
    """
    state = _current_state()
    table = state.episode if query.is_episode else state.movie
    percent, cutoff = _threshold(state, table, min_score)
    _score_all(state, table, (result,), query)
    total = result.score
    terms = []
    for term, points in result.score_breakdown.items():
        if term in table.weights:
            source = table.sources[term]
            order = 0 if term != FORMAT_BONUS else 1
        elif term.startswith(PROVIDER_TERM):
            sources = state.provider_sources.get(term[len(PROVIDER_TERM) :], [])
            source = ", ".join(name for name, _ in sources) or "plugin"
            order = 2
        else:
            source, order = term[len(PLUGIN_TERM) :], 3
        terms.append((order, -points, term, {"term": term, "points": points, "source": source}))
    terms.sort(key=lambda t: t[:3])
    return {
        "provider_name": result.provider_name,
        "subtitle_id": result.subtitle_id,
        "score_type": table.score_type,
        "total": total,
        "terms": [t[3] for t in terms],
        "weights": dict(table.weights),
        "weight_sources": dict(table.sources),
        "ignored_matches": sorted(k for k in result.matches if k not in table.match_weights),
        "min_score": {
            "percent": percent,
            "points": cutoff,
            "max_score": table.max_score,
            "dropped": bool(percent) and total < cutoff,
        },
    }


def format_explanation(explanation: Mapping[str, Any]) -> str:
    """Render an ``explain_score`` result as lines of text for people."""
    terms = explanation["terms"]
    width = max([len(t["term"]) for t in terms] + [len("total")])
    lines = [
        f"{explanation['provider_name']} subtitle {explanation['subtitle_id']}: "
        f"{explanation['total']} points ({explanation['score_type']} weights)"
    ]
    for t in terms:
        lines.append(f"  {t['points']:>+6}  {t['term']:<{width}}  from {t['source']}")
    if not terms:
        lines.append("  (nothing matched)")
    lines.append(f"  {explanation['total']:>6}  {'total':<{width}}")
    if explanation.get("ignored_matches"):
        lines.append(f"  ignored matches without a weight: {', '.join(explanation['ignored_matches'])}")
    cutoff = explanation.get("min_score")
    if cutoff and cutoff["percent"]:
        verdict = "DROPPED: under" if cutoff["dropped"] else "kept: meets"
        lines.append(
            f"  {verdict} the minimum score {cutoff['points']} "
            f"({cutoff['percent']}% of {cutoff['max_score']})"
        )
    return "\n".join(lines)
