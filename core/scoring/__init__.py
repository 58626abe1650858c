"""Scoring: ``compute_score`` / ``score_many`` / ``explain_score``, the models, the weight
tables and their cache, and scoring presets."""

from __future__ import annotations

from sublarr.core.scoring.cache import invalidate_scoring_cache
from sublarr.core.scoring.compute import (
    DEFAULT_WEIGHTS,
    compute_score,
    explain_score,
    format_explanation,
    score_many,
)
from sublarr.core.scoring.models import SubtitleResult, VideoQuery

__all__ = [
    "DEFAULT_WEIGHTS",
    "SubtitleResult",
    "VideoQuery",
    "compute_score",
    "explain_score",
    "format_explanation",
    "invalidate_scoring_cache",
    "score_many",
]
