"""Scoring preferences: what the user wants of a subtitle beyond its matches.

Stored in the database (``sublarr.core.db.scoring``: ``get_scoring_preferences`` ...),
scored by the built-in preference plugins (``sublarr.plugins.preferences``), each its own
source in ``explain_score``, and carried by presets. The whole document, with its defaults::

    {
      "hearing_impaired":   {"mode": "include", "prefer_points": 30, "exclude_points": -999},
      "forced":             {"mode": "include", "prefer_points": 30, "exclude_points": -999},
      "uploader_trust":     {"uploaders": {}, "provider_trust": False, "provider_trust_max": 20},
      "machine_translated": {"mode": "include", "penalty_points": -100, "exclude_points": -999},
      "min_score":          {"episode": 0, "movie": 0}
    }

The rules, Sublarr's (``hi_preference`` / ``forced_preference``):

* ``hearing_impaired`` and ``forced`` ``mode``: ``include`` (no preference), ``prefer``
  (a matching subtitle gets ``prefer_points``), ``exclude`` (a matching one gets
  ``exclude_points``), ``only`` (one that does not match gets ``exclude_points``).
* ``uploader_trust``: ``uploaders`` maps an uploader name (compared ignoring case) to the
  points its subtitles get; with ``provider_trust`` the provider-supplied
  ``uploader_trust`` score is added too, as whole points, capped at ``provider_trust_max``.
* ``machine_translated`` ``mode``: ``include``, ``penalty`` (``penalty_points``) or
  ``exclude`` (``exclude_points``) for a machine-translated subtitle.
* ``min_score``: per score type, the percentage (0-100) of the highest possible score a
  result needs to be kept by ``score_many`` (0: keep everything).

Points are ints in -1000..1000 like every weight. A partial document changes only what it
names; ``validate_preferences`` refuses anything else with a ``ValidationError``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sublarr.core.errors import ValidationError
from sublarr.core.scoring.validation import check_points
from sublarr.core.scoring.weights import SCORE_TYPES

__all__ = [
    "DEFAULT_PREFERENCES",
    "FLAG_MODES",
    "MT_MODES",
    "PREFERENCE_SECTIONS",
    "default_preferences",
    "merge_preferences",
    "validate_preferences",
]

FLAG_MODES: tuple[str, ...] = ("include", "prefer", "exclude", "only")
MT_MODES: tuple[str, ...] = ("include", "penalty", "exclude")
_UPLOADER_MAX = 200  # names in uploader_trust.uploaders
_NAME_MAX = 100

DEFAULT_PREFERENCES: Mapping[str, Mapping[str, Any]] = {
    "hearing_impaired": {"mode": "include", "prefer_points": 30, "exclude_points": -999},
    "forced": {"mode": "include", "prefer_points": 30, "exclude_points": -999},
    "uploader_trust": {"uploaders": {}, "provider_trust": False, "provider_trust_max": 20},
    "machine_translated": {"mode": "include", "penalty_points": -100, "exclude_points": -999},
    "min_score": {"episode": 0, "movie": 0},
}
PREFERENCE_SECTIONS: tuple[str, ...] = tuple(DEFAULT_PREFERENCES)


def default_preferences() -> dict[str, dict[str, Any]]:
    """A fresh copy of the defaults (no preference set, no cut-off)."""
    return copy.deepcopy({k: dict(v) for k, v in DEFAULT_PREFERENCES.items()})


def _mode(field: str, value: Any, modes: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in modes:
        raise ValidationError(field, f"expected one of {', '.join(modes)}, got {value!r}")
    return value


def _bool(field: str, value: Any) -> bool:
    if type(value) is not bool:
        raise ValidationError(field, f"expected true or false, got {value!r}")
    return value


def _percent(field: str, value: Any) -> int:
    if type(value) is not int or not 0 <= value <= 100:
        raise ValidationError(field, f"expected a whole percentage 0..100, got {value!r}")
    return value


def _non_negative_points(field: str, value: Any) -> int:
    points = check_points(field, value)
    if points < 0:
        raise ValidationError(field, f"expected 0 or more, got {value!r}")
    return points


def _uploaders(field: str, value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise ValidationError(field, "expected an object of uploader names to points")
    if len(value) > _UPLOADER_MAX:
        raise ValidationError(field, f"at most {_UPLOADER_MAX} uploaders")
    clean: dict[str, int] = {}
    for name, points in value.items():
        if not isinstance(name, str) or not name.strip() or len(name) > _NAME_MAX:
            raise ValidationError(f"{field}.{name}", f"an uploader name is 1-{_NAME_MAX} characters")
        clean[name.strip()] = check_points(f"{field}.{name}", points)
    return clean


# section -> key -> checker(field, value)
_RULES: dict[str, dict[str, Any]] = {
    "hearing_impaired": {
        "mode": lambda f, v: _mode(f, v, FLAG_MODES),
        "prefer_points": check_points,
        "exclude_points": check_points,
    },
    "forced": {
        "mode": lambda f, v: _mode(f, v, FLAG_MODES),
        "prefer_points": check_points,
        "exclude_points": check_points,
    },
    "uploader_trust": {
        "uploaders": _uploaders,
        "provider_trust": _bool,
        "provider_trust_max": _non_negative_points,
    },
    "machine_translated": {
        "mode": lambda f, v: _mode(f, v, MT_MODES),
        "penalty_points": check_points,
        "exclude_points": check_points,
    },
    "min_score": dict.fromkeys(SCORE_TYPES, _percent),
}


def validate_preferences(data: Any) -> dict[str, dict[str, Any]]:
    """Check a (partial) preference document; return it as plain dicts.

    Raises ``ValidationError`` whose field is the dotted path of the culprit
    (``hearing_impaired.mode``) for an unknown section or key or a bad value.
    """
    if not isinstance(data, Mapping):
        raise ValidationError("preferences", f"expected an object, got {type(data).__name__}")
    clean: dict[str, dict[str, Any]] = {}
    for section, values in data.items():
        rules = _RULES.get(section) if isinstance(section, str) else None
        if rules is None:
            raise ValidationError(
                str(section), f"unknown preference (known: {', '.join(PREFERENCE_SECTIONS)})"
            )
        if not isinstance(values, Mapping):
            raise ValidationError(section, "expected an object")
        checked: dict[str, Any] = {}
        for key, value in values.items():
            check = rules.get(key) if isinstance(key, str) else None
            if check is None:
                raise ValidationError(f"{section}.{key}", f"unknown key (known: {', '.join(rules)})")
            checked[key] = check(f"{section}.{key}", value)
        clean[section] = checked
    return clean


def merge_preferences(
    base: Mapping[str, Mapping[str, Any]], changes: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """``base`` with the (validated) ``changes`` applied key by key; neither is modified."""
    merged = {section: dict(values) for section, values in base.items()}
    for section, values in changes.items():
        merged.setdefault(section, {}).update(copy.deepcopy(dict(values)))
    return merged
