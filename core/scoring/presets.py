"""Scoring presets: the stored weights and provider modifiers as one shareable JSON document.

A preset looks like::

    {
      "format": "sublarr-scoring-preset",
      "version": 1,
      "weights": {"episode": {"hash": 400}, "movie": {}},
      "provider_modifiers": {"opensubtitles": -20}
    }

``weights`` holds only the overrides (keys left out keep their defaults); a score type left
out has no overrides. ``description``, ``exported_at`` and ``sublarr_version`` may be present
and are ignored on import. Importing replaces the whole stored scoring configuration in one
transaction, after validating all of it: a preset with any bad part changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from sublarr.core.db.scoring import get_all_provider_modifiers, get_scoring_weights, replace_scoring_config
from sublarr.core.errors import ValidationError
from sublarr.core.scoring.validation import nested, validate_modifier, validate_score_type, validate_weights
from sublarr.core.scoring.weights import SCORE_TYPES

logger = logging.getLogger(__name__)

PRESET_FORMAT = "sublarr-scoring-preset"
PRESET_VERSION = 1
_METADATA_KEYS = frozenset({"description", "exported_at", "sublarr_version"})
_KNOWN_KEYS = frozenset({"format", "version", "weights", "provider_modifiers"}) | _METADATA_KEYS


def export_scoring_preset(description: str | None = None) -> dict[str, Any]:
    """The stored weight overrides and provider modifiers as a JSON-ready preset."""
    from sublarr.core import __version__

    preset: dict[str, Any] = {
        "format": PRESET_FORMAT,
        "version": PRESET_VERSION,
        "sublarr_version": __version__,
        "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "weights": {t: dict(sorted(get_scoring_weights(t).items())) for t in SCORE_TYPES},
        "provider_modifiers": dict(sorted(get_all_provider_modifiers().items())),
    }
    if description:
        preset["description"] = description
    return preset


def validate_scoring_preset(data: Any) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Check a preset; return ``(weights by score type, provider modifiers)`` or raise ``ValidationError``.

    The error's field is a dotted path into the preset (``weights.episode.hash``).
    """
    if not isinstance(data, Mapping):
        raise ValidationError("preset", f"expected a JSON object, got {type(data).__name__}")
    unknown = sorted(str(k) for k in data if k not in _KNOWN_KEYS)
    if unknown:
        raise ValidationError(unknown[0], "unknown preset field")
    if data.get("format") != PRESET_FORMAT:
        raise ValidationError("format", f"expected {PRESET_FORMAT!r}, got {data.get('format')!r}")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValidationError("version", f"expected an integer, got {version!r}")
    if version != PRESET_VERSION:
        raise ValidationError(
            "version", f"preset version {version} is not supported (this sublarr reads {PRESET_VERSION})"
        )

    raw_weights = data.get("weights", {})
    if not isinstance(raw_weights, Mapping):
        raise ValidationError("weights", "expected an object of score types")
    weights: dict[str, dict[str, int]] = {t: {} for t in SCORE_TYPES}
    for score_type, overrides in raw_weights.items():
        try:
            validate_score_type(score_type)
        except ValidationError as exc:
            raise ValidationError(f"weights.{score_type}", exc.reason) from None
        try:
            weights[score_type] = validate_weights(score_type, overrides)
        except ValidationError as exc:
            raise nested(f"weights.{score_type}", exc) from None

    raw_modifiers = data.get("provider_modifiers", {})
    if not isinstance(raw_modifiers, Mapping):
        raise ValidationError("provider_modifiers", "expected an object of provider names to integers")
    modifiers: dict[str, int] = {}
    for name, value in raw_modifiers.items():
        try:
            name, value = validate_modifier(name, value)
        except ValidationError as exc:
            raise ValidationError(f"provider_modifiers.{name}", exc.reason) from None
        modifiers[name] = value
    return weights, modifiers


def import_scoring_preset(data: Any) -> dict[str, Any]:
    """Validate ``data`` and make it the whole stored scoring configuration, in one transaction.

    Raises ``ValidationError`` (nothing changed) for a bad preset. Returns a summary:
    ``{"weights": {score_type: number of overrides}, "provider_modifiers": count}``.
    """
    weights, modifiers = validate_scoring_preset(data)
    replace_scoring_config(weights, modifiers)
    summary = {
        "weights": {t: len(w) for t, w in weights.items()},
        "provider_modifiers": len(modifiers),
    }
    logger.info("scoring preset imported: %r", summary)
    return summary
