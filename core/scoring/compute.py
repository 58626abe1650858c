"""Subtitle scoring: default weights, ``compute_score``, ``score_many``, ``explain_score``.

How a score is made::

    weights = defaults, then each ``scoring_weights`` hook result merged over them
              (the built-in DB-weights plugin runs last: the user's stored weights win)
    score   = sum of weights[key] for key in result.matches
            + weights["format_bonus"] for an ASS/SSA subtitle
            + each ``score_modifier`` hook result (stored per-provider modifier, plugins)

``result.score`` and ``result.score_breakdown`` are set; each breakdown term names its
source: a weight key (``"hash"``), ``"format_bonus"``, ``"provider:<provider name>"`` for a
per-provider modifier, ``"plugin:<plugin name>"`` for any other plugin's modifier.

Speed: the merged weight tables, the per-provider modifiers and the list of
``score_modifier`` implementations are resolved together, once per
``SUBLARR_SCORING_CACHE_TTL`` period, and again when plugins are (un)registered or
``invalidate_scoring_cache()`` is called (see ``sublarr.core.scoring.cache``). No hook runs
per result unless a plugin needs per-result logic. While one thread re-reads expired
tables, other threads keep scoring with the expired ones instead of waiting; after an
invalidation every thread waits for the fresh tables.

Two optional plugin attributes tell the scorer more than the hooks can:

``provider_modifier_table()``
    On a plugin implementing ``score_modifier``: returns a ``{provider_name: int}`` mapping
    and declares that the plugin's ``score_modifier`` returns exactly
    ``table.get(result.provider_name)``. The scorer then reads the table once per cache
    period instead of calling the hook per result, and names the term
    ``provider:<provider_name>``. The built-in provider-modifiers plugin does this.

``defines_weight_keys = False``
    On a plugin implementing ``scoring_weights``: its weights re-value keys defined by the
    defaults or other plugins and add none (the built-in DB-weights plugin). Its unknown
    keys are ignored, and ``validate_weights`` does not ask it which keys exist.

Weights and modifiers are integers in ``WEIGHT_MIN..WEIGHT_MAX`` (-1000..1000), which keeps
a single term from swamping the hash weight (359) by more than a few times.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter
from time import monotonic
from types import MappingProxyType
from typing import Any

from sublarr.core.errors import ValidationError
from sublarr.core.plugin_manager import SublarrPluginManager, get_plugin_manager
from sublarr.core.scoring.cache import invalidate_scoring_cache, on_scoring_invalidated
from sublarr.core.scoring.models import ASS_FORMATS, SubtitleResult, VideoQuery

__all__ = [
    "DEFAULT_WEIGHTS",
    "EPISODE_SCORES",
    "FORMAT_BONUS",
    "MOVIE_SCORES",
    "SCORE_TYPES",
    "WEIGHT_MAX",
    "WEIGHT_MIN",
    "SubtitleResult",
    "VideoQuery",
    "compute_score",
    "describe_weights",
    "effective_provider_modifiers",
    "effective_weights",
    "explain_score",
    "format_explanation",
    "invalidate_scoring_cache",
    "known_weight_keys",
    "score_many",
    "validate_modifier",
    "validate_score_type",
    "validate_weights",
]

logger = logging.getLogger(__name__)

FORMAT_BONUS = "format_bonus"
WEIGHT_MIN = -1000
WEIGHT_MAX = 1000

EPISODE_SCORES: Mapping[str, int] = MappingProxyType(
    {
        "hash": 359,
        "series": 180,
        "year": 90,
        "season": 30,
        "episode": 30,
        "release_group": 14,
        "source": 7,
        "audio_codec": 3,
        "resolution": 2,
        "hearing_impaired": 1,
        FORMAT_BONUS: 50,
    }
)

MOVIE_SCORES: Mapping[str, int] = MappingProxyType(
    {
        "hash": 119,
        "title": 60,
        "year": 30,
        "release_group": 13,
        "source": 7,
        "audio_codec": 3,
        "resolution": 2,
        "hearing_impaired": 1,
        FORMAT_BONUS: 50,
    }
)

DEFAULT_WEIGHTS: Mapping[str, Mapping[str, int]] = MappingProxyType(
    {"episode": EPISODE_SCORES, "movie": MOVIE_SCORES}
)
SCORE_TYPES: tuple[str, ...] = ("episode", "movie")

DEFAULT_SOURCE = "default"
_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_PROVIDER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,99}$")
# every spelling of "ass"/"ssa": one set lookup per result instead of a .lower() call
_ASS_SPELLINGS = frozenset(
    "".join(c.upper() if mask >> i & 1 else c for i, c in enumerate(name))
    for name in ASS_FORMATS
    for mask in range(2 ** len(name))
)

# -- validation -------------------------------------------------------------------------------


def validate_score_type(score_type: Any) -> str:
    """Return ``score_type`` if it is ``"episode"`` or ``"movie"``; else raise ``ValidationError``."""
    if not isinstance(score_type, str) or score_type not in DEFAULT_WEIGHTS:
        raise ValidationError(
            "score_type", f"unknown score type {score_type!r} (expected {' or '.join(SCORE_TYPES)})"
        )
    return score_type


def _check_int(field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, f"expected an integer, got {type(value).__name__} {value!r}")
    if not WEIGHT_MIN <= value <= WEIGHT_MAX:
        raise ValidationError(field, f"{value} is outside the allowed range {WEIGHT_MIN}..{WEIGHT_MAX}")
    return int(value)


def _check_weights(score_type: str, weights: Any, known: Iterable[str] | None) -> dict[str, int]:
    if not isinstance(weights, Mapping):
        raise ValidationError(
            "weights", f"expected a mapping of weight keys to integers, got {type(weights).__name__}"
        )
    known_set = None if known is None else frozenset(known)
    clean: dict[str, int] = {}
    for key, value in weights.items():
        if not isinstance(key, str) or not _KEY_PATTERN.match(key):
            raise ValidationError(
                str(key), "weight keys are lower-case names like 'release_group' (a-z, 0-9, _)"
            )
        if known_set is not None and key not in known_set:
            raise ValidationError(
                key, f"unknown {score_type} weight key (known: {', '.join(sorted(known_set))})"
            )
        clean[key] = _check_int(key, value)
    return clean


def known_weight_keys(score_type: str) -> frozenset[str]:
    """Weight keys valid for ``score_type``: the defaults' plus those plugins' weights define."""
    validate_score_type(score_type)
    pm = get_plugin_manager()
    keys = set(DEFAULT_WEIGHTS[score_type])
    for plugin_name, function, argnames in pm.implementations("scoring_weights"):
        if not getattr(pm.get_plugin(plugin_name), "defines_weight_keys", True):
            continue
        ok, result = pm.call_one(
            "scoring_weights", plugin_name, function, argnames, {"score_type": score_type}
        )
        if ok and isinstance(result, Mapping):
            keys.update(k for k in result if isinstance(k, str) and _KEY_PATTERN.match(k))
    return frozenset(keys)


def validate_weights(score_type: str, weights: Mapping[str, int]) -> dict[str, int]:
    """Check weight overrides for ``score_type`` and return them as a plain dict.

    Refused with ``ValidationError`` naming the culprit: an unknown score type, a key that
    neither the defaults nor a plugin's ``scoring_weights`` define, a value that is not an
    ``int`` (``bool`` included) or lies outside ``WEIGHT_MIN..WEIGHT_MAX``.
    """
    validate_score_type(score_type)
    return _check_weights(score_type, weights, known_weight_keys(score_type))


def validate_modifier(provider_name: Any, modifier: Any) -> tuple[str, int]:
    """Check a per-provider modifier; return ``(provider_name, modifier)`` or raise ``ValidationError``.

    A provider name is 1-100 characters of letters, digits, space and ``_ . -``, starting
    with a letter or digit; the modifier an ``int`` in ``WEIGHT_MIN..WEIGHT_MAX``.
    """
    if not isinstance(provider_name, str) or not _PROVIDER_PATTERN.match(provider_name):
        raise ValidationError(
            "provider_name",
            f"{provider_name!r} is not a provider name "
            "(1-100 letters, digits, space, '_', '.', '-', starting with a letter or digit)",
        )
    return provider_name, _check_int(provider_name, modifier)


# -- the resolved configuration ---------------------------------------------------------------


class _Table:
    """The merged weights of one score type."""

    __slots__ = ("format_bonus", "match_weights", "score_type", "sources", "weights")

    def __init__(self, score_type: str, weights: dict[str, int], sources: dict[str, str]) -> None:
        self.score_type = score_type
        self.weights = weights
        self.sources = sources
        self.match_weights = {k: v for k, v in weights.items() if k != FORMAT_BONUS}
        self.format_bonus = weights.get(FORMAT_BONUS, 0)


# How a slow-path modifier is called, from its argnames.
_CALL_KINDS = {("result", "query"): 0, ("result",): 1, ("query",): 2, (): 3, ("query", "result"): 4}


class _State:
    """Everything compute_score needs, resolved once per cache period."""

    __slots__ = (
        "episode",
        "expires",
        "generation",
        "modifiers",
        "movie",
        "pm",
        "provider_sources",
        "providers",
        "trace",
    )

    def __init__(self, pm: SublarrPluginManager) -> None:
        self.pm = pm
        self.generation = pm.generation
        self.trace = bool(pm.trace)
        self.expires = monotonic() + float(pm.settings.scoring_cache_ttl)
        self.episode = _resolve_table(pm, "episode")
        self.movie = _resolve_table(pm, "movie")
        # provider -> (term, points) and provider -> [(plugin, points)]
        self.providers: dict[str, tuple[str, int]] = {}
        self.provider_sources: dict[str, list[tuple[str, int]]] = {}
        # (plugin name, function, call kind, argnames, term) of per-result modifiers
        self.modifiers: tuple[tuple[str, Callable[..., Any], int, tuple[str, ...], str], ...] = ()
        self._resolve_modifiers(pm)

    def _resolve_modifiers(self, pm: SublarrPluginManager) -> None:
        modifiers = []
        for plugin_name, function, argnames in pm.implementations("score_modifier"):
            table_of = getattr(pm.get_plugin(plugin_name), "provider_modifier_table", None)
            if table_of is None:
                kind = _CALL_KINDS.get(tuple(argnames), -1)
                modifiers.append((plugin_name, function, kind, tuple(argnames), f"plugin:{plugin_name}"))
                continue
            try:
                table = table_of()
                if not isinstance(table, Mapping):
                    raise ValidationError(
                        "provider_modifier_table", f"returned {type(table).__name__}, expected a mapping"
                    )
                table = {validate_modifier(k, v)[0]: v for k, v in table.items()}
            except Exception as exc:  # noqa: BLE001 - isolate the plugin, score without it
                pm.record_error(plugin_name, "score_modifier", f"provider_modifier_table: {exc!r}")
                continue
            for provider, points in table.items():
                if not points:
                    continue
                self.provider_sources.setdefault(provider, []).append((plugin_name, points))
                _, before = self.providers.get(provider, ("", 0))
                self.providers[provider] = (f"provider:{provider}", before + points)
        self.modifiers = tuple(modifiers)

    def table(self, score_type: str) -> _Table:
        return self.episode if score_type == "episode" else self.movie


def _resolve_table(pm: SublarrPluginManager, score_type: str) -> _Table:
    weights = dict(DEFAULT_WEIGHTS[score_type])
    sources = dict.fromkeys(weights, DEFAULT_SOURCE)
    answers: list[tuple[str, dict[str, int], bool]] = []
    known = set(weights)
    for plugin_name, function, argnames in pm.implementations("scoring_weights"):
        ok, result = pm.call_one(
            "scoring_weights", plugin_name, function, argnames, {"score_type": score_type}
        )
        if not ok or result is None:
            continue
        try:
            clean = _check_weights(score_type, result, None)
        except ValidationError as exc:
            pm.record_error(plugin_name, "scoring_weights", f"bad {score_type} weights: {exc}")
            continue
        defines = bool(getattr(pm.get_plugin(plugin_name), "defines_weight_keys", True))
        if defines:
            known.update(clean)
        answers.append((plugin_name, clean, defines))
    for plugin_name, clean, defines in answers:  # in call order: later plugins win
        for key, value in clean.items():
            if not defines and key not in known:
                logger.debug(
                    "ignoring %s weight %r of %s: no default or plugin defines it",
                    score_type,
                    key,
                    plugin_name,
                )
                continue
            weights[key] = value
            sources[key] = plugin_name
    return _Table(score_type, weights, sources)


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


def _current_state() -> _State:
    pm = get_plugin_manager()
    state = _state
    if (
        state is not None
        and state.pm is pm
        and state.generation == pm.generation
        and monotonic() < state.expires
    ):
        return state
    return _rebuild(pm)


def _rebuild(pm: SublarrPluginManager) -> _State:
    stale = _state
    if stale is not None and stale.pm is pm and stale.generation == pm.generation:
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
    if (
        state is not None
        and state.pm is pm
        and state.generation == pm.generation
        and monotonic() < state.expires
    ):
        return state  # another thread rebuilt it meanwhile
    epoch = _epoch
    state = _State(pm)
    with _publish_lock:
        if epoch == _epoch:  # not invalidated while the hooks ran
            _state = state
    logger.debug(
        "scoring tables resolved: %d provider modifiers, %d per-result modifier(s)",
        len(state.providers),
        len(state.modifiers),
    )
    return state


# -- scoring ----------------------------------------------------------------------------------


def _run_modifiers(
    state: _State, result: SubtitleResult, query: VideoQuery, breakdown: dict[str, int]
) -> int:
    total = 0
    pm = state.pm
    for plugin_name, function, kind, argnames, term in state.modifiers:
        if state.trace or kind < 0:
            ok, value = pm.call_one(
                "score_modifier", plugin_name, function, argnames, {"result": result, "query": query}
            )
            if not ok or not value:
                continue
        else:
            try:
                if kind == 0:
                    value = function(result, query)
                elif kind == 1:
                    value = function(result)
                elif kind == 2:
                    value = function(query)
                elif kind == 3:
                    value = function()
                else:
                    value = function(query, result)
            except Exception as exc:  # noqa: BLE001 - isolate the plugin
                pm.record_error(plugin_name, "score_modifier", f"raised {exc!r}", exc_info=exc)
                continue
            if value is None:
                continue
            if type(value) is not int and (isinstance(value, bool) or not isinstance(value, int)):
                pm.record_error(
                    plugin_name,
                    "score_modifier",
                    f"returned {type(value).__name__} {value!r}, expected int or None",
                )
                continue
            if not value:
                continue
        breakdown[term] = breakdown.get(term, 0) + value
        total += value
    return total


def _score_all(state: _State, table: _Table, results: Iterable[SubtitleResult], query: VideoQuery) -> None:
    """Score each result in place: the one implementation behind every public entry point."""
    weights = table.match_weights
    bonus = table.format_bonus
    providers = state.providers
    modifiers = state.modifiers
    for result in results:
        breakdown = {key: weights[key] for key in result.matches if key in weights}
        score = sum(breakdown.values())
        if bonus and result.format in _ASS_SPELLINGS:
            breakdown[FORMAT_BONUS] = bonus
            score += bonus
        provider = providers.get(result.provider_name)
        if provider is not None:
            breakdown[provider[0]] = provider[1]
            score += provider[1]
        if modifiers:
            score += _run_modifiers(state, result, query, breakdown)
        result.score = score
        result.score_breakdown = breakdown


def compute_score(result: SubtitleResult, query: VideoQuery) -> int:
    """Score ``result`` as a subtitle for ``query``; set ``result.score`` and ``result.score_breakdown``.

    A plugin that raises or returns a non-int is skipped and counted in the plugin
    manager's ``error_counts``; the score is returned all the same.
    """
    state = _current_state()
    _score_all(state, state.episode if query.is_episode else state.movie, (result,), query)
    return result.score


def score_many(results: Iterable[SubtitleResult], query: VideoQuery) -> list[SubtitleResult]:
    """Score every result of one search for ``query``; return them best first.

    Results with equal scores keep their input order.
    """
    ranked = list(results)
    if not ranked:
        return ranked
    state = _current_state()
    _score_all(state, state.episode if query.is_episode else state.movie, ranked, query)
    ranked.sort(key=attrgetter("score"), reverse=True)
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


def effective_provider_modifiers() -> dict[str, int]:
    """Per-provider modifiers scoring uses now (from plugins with a ``provider_modifier_table``)."""
    return {provider: points for provider, (_, points) in _current_state().providers.items()}


# -- explaining -------------------------------------------------------------------------------


def explain_score(result: SubtitleResult, query: VideoQuery) -> dict[str, Any]:
    """Score ``result`` (as ``compute_score`` does) and say where every point came from.

    Returns ``{"provider_name", "subtitle_id", "score_type", "total", "terms", "weights",
    "weight_sources", "ignored_matches"}``: ``terms`` is a list of ``{"term", "points",
    "source"}`` (source: ``"default"`` or the plugin that supplied the value), ``weights``
    the weight table used, ``ignored_matches`` the matches no weight exists for.
    Render it for people with ``format_explanation``.
    """
    state = _current_state()
    table = state.episode if query.is_episode else state.movie
    _score_all(state, table, (result,), query)
    total = result.score
    terms = []
    for term, points in result.score_breakdown.items():
        if term in table.weights:
            source = table.sources[term]
            order = 0 if term != FORMAT_BONUS else 1
        elif term.startswith("provider:"):
            sources = state.provider_sources.get(term[len("provider:") :], [])
            source = ", ".join(name for name, _ in sources) or "plugin"
            order = 2
        else:
            source, order = term[len("plugin:") :], 3
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
    return "\n".join(lines)
