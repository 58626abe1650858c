"""Scoring: ``compute_score`` / ``score_many`` / ``explain_score``, the models, the default
weights, the rules for weights and modifiers, and the cache of scoring configuration.

Plugins that feed the scorer from storage of their own use ``stored_scoring_cache`` and
``invalidate_if_scoring_changed`` (the built-in ``db_weights`` and ``provider_modifiers``
plugins do). Presets live in ``sublarr.core.scoring.presets``, storage in
``sublarr.core.db.scoring``.
"""

from __future__ import annotations

from sublarr.core.scoring.cache import (
    TTLCache,
    invalidate_if_scoring_changed,
    invalidate_scoring_cache,
    stored_scoring_cache,
)
from sublarr.core.scoring.compute import (
    compute_score,
    describe_weights,
    effective_weights,
    explain_score,
    format_explanation,
    min_score_points,
    score_many,
)
from sublarr.core.scoring.models import SubtitleResult, VideoQuery, derived_matches
from sublarr.core.scoring.validation import (
    WEIGHT_MAX,
    WEIGHT_MIN,
    known_weight_keys,
    validate_modifier,
    validate_score_type,
    validate_weights,
)
from sublarr.core.scoring.weights import (
    DEFAULT_WEIGHTS,
    EPISODE_SCORES,
    FORMAT_BONUS,
    MOVIE_SCORES,
    SCORE_TYPES,
)

__all__ = [
    "DEFAULT_WEIGHTS",
    "EPISODE_SCORES",
    "FORMAT_BONUS",
    "MOVIE_SCORES",
    "SCORE_TYPES",
    "WEIGHT_MAX",
    "WEIGHT_MIN",
    "SubtitleResult",
    "TTLCache",
    "VideoQuery",
    "compute_score",
    "derived_matches",
    "describe_weights",
    "effective_weights",
    "explain_score",
    "format_explanation",
    "invalidate_if_scoring_changed",
    "invalidate_scoring_cache",
    "known_weight_keys",
    "min_score_points",
    "score_many",
    "stored_scoring_cache",
    "validate_modifier",
    "validate_score_type",
    "validate_weights",
]
