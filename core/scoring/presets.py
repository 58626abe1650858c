"""Scoring presets: the stored weights, provider modifiers and preferences as one JSON document.

A preset looks like::

    {
      "format": "sublarr-scoring-preset",
      "version": 1,
      "weights": {"episode": {"hash": 400}, "movie": {}},
      "provider_modifiers": {"opensubtitles": -20},
      "preferences": {"hearing_impaired": {"mode": "prefer"}, "min_score": {"episode": 90}}
    }

``weights`` holds only the overrides (keys left out keep their defaults); a score type left
out has no overrides. ``preferences`` (optional) holds the stored preferences
(``sublarr.core.scoring.preferences``); a preset without it leaves the stored preferences
as they are. ``description``, ``exported_at``, ``sublarr_version`` and ``name`` may be present
and are ignored on import. Importing replaces the whole stored scoring configuration in one
transaction, after validating all of it: a preset with any bad part changes nothing.

A preset exported by Sublarr (``{"name", "description", "type", "weights",
"provider_modifiers"}``, its ``/scoring/presets`` format) imports as it is: its envelope is
mapped onto this one (``type`` is informational there and here).

Bundled presets (``bundled_presets``, ``apply_bundled_preset``): ``defaults``,
``hash-first``, ``strict-release-group`` and ``anime``.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from sublarr.core.db.scoring import (
    get_all_provider_modifiers,
    get_scoring_weights,
    get_stored_preferences,
    replace_scoring_config,
)
from sublarr.core.errors import ValidationError
from sublarr.core.scoring.preferences import validate_preferences
from sublarr.core.scoring.validation import nested, validate_modifier, validate_score_type, validate_weights
from sublarr.core.scoring.weights import SCORE_TYPES

logger = logging.getLogger(__name__)

PRESET_FORMAT = "sublarr-scoring-preset"
PRESET_VERSION = 1
_METADATA_KEYS = frozenset({"description", "exported_at", "sublarr_version", "name"})
_KNOWN_KEYS = (
    frozenset({"format", "version", "weights", "provider_modifiers", "preferences"}) | _METADATA_KEYS
)
# Sublarr's preset envelope (backend/scoring_presets): name, description, type, weights, provider_modifiers
_SUBLARR_KEYS = frozenset({"name", "description", "type", "weights", "provider_modifiers"})
_SUBLARR_TYPES = frozenset({"episode", "movie", "both"})


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
    preferences = get_stored_preferences()
    if preferences:
        preset["preferences"] = preferences
    if description:
        preset["description"] = description
    return preset


def from_sublarr_preset(data: Mapping[str, Any]) -> dict[str, Any]:
    """A preset in Sublarr's envelope (``name``, ``type``, ...) as one of ours, or ``ValidationError``."""
    unknown = sorted(str(k) for k in data if k not in _SUBLARR_KEYS)
    if unknown:
        raise ValidationError(unknown[0], "unknown field of a Sublarr preset")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ValidationError("name", "a Sublarr preset has a name")
    kind = data.get("type", "both")
    if kind not in _SUBLARR_TYPES:
        raise ValidationError("type", f"expected episode, movie or both, got {kind!r}")
    preset: dict[str, Any] = {
        "format": PRESET_FORMAT,
        "version": PRESET_VERSION,
        "name": name,
        "weights": data.get("weights", {}),
        "provider_modifiers": data.get("provider_modifiers", {}),
    }
    if isinstance(data.get("description"), str):
        preset["description"] = data["description"]
    return preset


def is_sublarr_preset(data: Any) -> bool:
    """True for a document in Sublarr's preset envelope (a ``name`` and no ``format``)."""
    return isinstance(data, Mapping) and "format" not in data and "name" in data


def validate_scoring_preset(data: Any) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Check a preset; return ``(weights by score type, provider modifiers)`` or raise ``ValidationError``.

    The whole preset is checked (its preferences too: ``check_scoring_preset``).
    """
    weights, modifiers, _ = check_scoring_preset(data)
    return weights, modifiers


def check_scoring_preset(
    data: Any,
) -> tuple[dict[str, dict[str, int]], dict[str, int], dict[str, dict[str, Any]] | None]:
    """Check a preset; return ``(weights by score type, provider modifiers, preferences or None)``.

    Raises ``ValidationError``; its field is a dotted path into the preset
    (``weights.episode.hash``). A Sublarr preset is mapped first (``from_sublarr_preset``).
    """
    if not isinstance(data, Mapping):
        raise ValidationError("preset", f"expected a JSON object, got {type(data).__name__}")
    if is_sublarr_preset(data):
        data = from_sublarr_preset(data)
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

    preferences = None
    if "preferences" in data:
        try:
            preferences = validate_preferences(data["preferences"])
        except ValidationError as exc:
            raise nested("preferences", exc) from None
    return weights, modifiers, preferences


def import_scoring_preset(data: Any) -> dict[str, Any]:
    """Validate ``data`` and make it the whole stored scoring configuration, in one transaction.

    Raises ``ValidationError`` (nothing changed) for a bad preset. Returns a summary:
    ``{"weights": {score_type: number of overrides}, "provider_modifiers": count,
    "preferences": count of preference values}`` (that key only when the preset holds
    preferences; without them the stored preferences are left as they are).
    """
    weights, modifiers, preferences = check_scoring_preset(data)
    replace_scoring_config(weights, modifiers, preferences)
    summary: dict[str, Any] = {
        "weights": {t: len(w) for t, w in weights.items()},
        "provider_modifiers": len(modifiers),
    }
    if preferences is not None:
        summary["preferences"] = sum(len(v) for v in preferences.values())
    logger.info("scoring preset imported: %r", summary)
    return summary


# ---- bundled presets ------------------------------------------------------------------------

_BUNDLED: dict[str, dict[str, Any]] = {
    "defaults": {
        "description": "The default weights, no provider modifiers, no preferences, no cut-off.",
        "weights": {"episode": {}, "movie": {}},
        "provider_modifiers": {},
        "preferences": {},
    },
    "hash-first": {
        "description": "A hash match wins over everything else; results far from the video are cut off "
        "(episodes under 60 %, movies under 50 % of the highest score).",
        "weights": {"episode": {"hash": 600}, "movie": {"hash": 300}},
        "provider_modifiers": {},
        "preferences": {"min_score": {"episode": 60, "movie": 50}},
    },
    "strict-release-group": {
        "description": "The release group must match: it weighs like a season+episode match, "
        "and the cut-off (Bazarr's usual 90 % for episodes, 70 % for movies) drops the rest.",
        "weights": {
            "episode": {"release_group": 60, "source": 14},
            "movie": {"release_group": 40, "source": 10},
        },
        "provider_modifiers": {},
        "preferences": {"min_score": {"episode": 90, "movie": 70}},
    },
    "anime": {
        "description": "Anime (Sublarr's anime preset): strong ASS/SSA preference, release group matters, "
        "machine-translated subtitles penalised.",
        "weights": {
            "episode": {"release_group": 20, "source": 5, "audio_codec": 2, "format_bonus": 80},
            "movie": {"release_group": 20, "source": 5, "audio_codec": 2, "format_bonus": 80},
        },
        "provider_modifiers": {},
        "preferences": {"machine_translated": {"mode": "penalty"}},
    },
}


def bundled_presets() -> list[dict[str, str]]:
    """The presets that ship with sublarr: ``[{"name", "description"}]``."""
    return [{"name": name, "description": p["description"]} for name, p in _BUNDLED.items()]


def get_bundled_preset(name: str) -> dict[str, Any]:
    """The bundled preset ``name`` as a preset document; ``NotFoundError`` when there is none."""
    from sublarr.core.errors import NotFoundError

    bundled = _BUNDLED.get(name)
    if bundled is None:
        raise NotFoundError(f"no bundled scoring preset {name!r} (bundled: {', '.join(_BUNDLED)})")
    return {"format": PRESET_FORMAT, "version": PRESET_VERSION, "name": name, **copy.deepcopy(bundled)}


def apply_bundled_preset(name: str) -> dict[str, Any]:
    """Import the bundled preset ``name`` (replacing the stored configuration); return the summary."""
    return import_scoring_preset(get_bundled_preset(name))
