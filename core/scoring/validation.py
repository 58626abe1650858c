"""The rules for scoring input, in one place: storage, the REST API, the CLI, presets and
the scorer itself check weights and provider modifiers here.

* A score type is ``"episode"`` or ``"movie"``.
* A weight key is a lower-case name: a letter, then letters, digits and ``_``, at most 64
  characters. Only keys the defaults define or a plugin declares (``weight_keys`` hook)
  can be given a weight.
* A provider name is 1-100 characters: letters, digits, ``_ . -``, starting with a letter
  or digit. No spaces: real provider names have none (``opensubtitles``,
  ``OpenSubtitles.com``, ``addic7ed``, ``Subs4Free``), so ``Open Subs`` is refused, by
  every way in alike.
* A weight or a modifier is an ``int`` (``True`` and ``"5"`` are not) in
  ``WEIGHT_MIN..WEIGHT_MAX`` (-1000..1000), which keeps one term from swamping the hash
  weight (359) by more than a few times.

Every check raises ``ValidationError`` naming the culprit (``field``) and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sublarr.core.errors import ValidationError
from sublarr.core.plugin_manager import SublarrPluginManager, get_plugin_manager
from sublarr.core.scoring.weights import DEFAULT_WEIGHTS, SCORE_TYPES

__all__ = [
    "WEIGHT_MAX",
    "WEIGHT_MIN",
    "check_points",
    "check_provider_name",
    "declared_weight_keys",
    "known_weight_keys",
    "nested",
    "validate_modifier",
    "validate_provider_modifiers",
    "validate_score_type",
    "validate_weights",
]

WEIGHT_MIN = -1000
WEIGHT_MAX = 1000

_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
_PROVIDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}")


def nested(prefix: str, exc: ValidationError) -> ValidationError:
    """``exc`` with its field placed under ``prefix`` (``weights`` + ``hash`` -> ``weights.hash``)."""
    return ValidationError(f"{prefix}.{exc.field}" if exc.field else prefix, exc.reason)


def validate_score_type(score_type: Any) -> str:
    """``score_type`` if it is ``"episode"`` or ``"movie"``; else ``ValidationError``."""
    if not isinstance(score_type, str) or score_type not in DEFAULT_WEIGHTS:
        raise ValidationError(
            "score_type", f"unknown score type {score_type!r} (expected {' or '.join(SCORE_TYPES)})"
        )
    return score_type


def check_points(field: str, value: Any) -> int:
    """A weight or modifier: an ``int`` (not ``bool``) in ``WEIGHT_MIN..WEIGHT_MAX``."""
    if type(value) is not int:
        raise ValidationError(field, f"expected an integer, got {type(value).__name__} {value!r}")
    if not WEIGHT_MIN <= value <= WEIGHT_MAX:
        raise ValidationError(field, f"{value} is outside the allowed range {WEIGHT_MIN}..{WEIGHT_MAX}")
    return value


def _check_key(key: Any) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValidationError(
            str(key), "weight keys are lower-case names like 'release_group' (a-z, 0-9, _; at most 64)"
        )
    return key


def check_provider_name(provider_name: Any, field: str = "provider_name") -> str:
    """A provider name (see the module's rules)."""
    if not isinstance(provider_name, str) or not _PROVIDER.fullmatch(provider_name):
        raise ValidationError(
            field,
            f"{provider_name!r} is not a provider name "
            "(1-100 letters, digits, '_', '.', '-', starting with a letter or digit; no spaces)",
        )
    return provider_name


def declared_weight_keys(pm: SublarrPluginManager, score_type: str) -> dict[str, str]:
    """Keys plugins declare for ``score_type`` with their ``weight_keys`` hook: key -> plugin.

    A plugin whose answer holds a bad key is reported as a plugin error and ignored.
    """
    declared: dict[str, str] = {}
    for plugin_name, keys in pm.call_hook("weight_keys", score_type=score_type):
        try:
            clean = [_check_key(key) for key in keys]
        except ValidationError as exc:
            pm.record_error(plugin_name, "weight_keys", f"bad {score_type} weight key: {exc}")
            continue
        for key in clean:
            declared.setdefault(key, plugin_name)
    return declared


def known_weight_keys(score_type: str) -> frozenset[str]:
    """Weight keys valid for ``score_type``: the defaults' and those plugins declare."""
    validate_score_type(score_type)
    return frozenset(DEFAULT_WEIGHTS[score_type]) | frozenset(
        declared_weight_keys(get_plugin_manager(), score_type)
    )


def check_weights(score_type: str, weights: Any, known: Iterable[str] | None) -> dict[str, int]:
    """``weights`` as a plain dict, every key well formed (and in ``known`` unless ``None``)."""
    if not isinstance(weights, Mapping):
        raise ValidationError(
            "weights", f"expected a mapping of weight keys to integers, got {type(weights).__name__}"
        )
    known_set = None if known is None else frozenset(known)
    clean: dict[str, int] = {}
    for key, value in weights.items():
        _check_key(key)
        if known_set is not None and key not in known_set:
            raise ValidationError(
                key, f"unknown {score_type} weight key (known: {', '.join(sorted(known_set))})"
            )
        clean[key] = check_points(key, value)
    return clean


def validate_weights(score_type: Any, weights: Any) -> dict[str, int]:
    """Check weights for ``score_type``; return them as a plain dict.

    Refused with ``ValidationError`` naming the culprit: an unknown score type
    (``score_type``), not a mapping (``weights``), a key that is malformed or that neither
    the defaults nor a plugin declare, a value that is not an ``int`` in range (the key).
    """
    validate_score_type(score_type)
    return check_weights(score_type, weights, known_weight_keys(score_type))


def validate_modifier(provider_name: Any, modifier: Any) -> tuple[str, int]:
    """Check one provider modifier; ``(provider_name, modifier)`` or ``ValidationError``.

    The field is ``provider_name`` for a bad name, the provider's name for a bad value.
    """
    name = check_provider_name(provider_name)
    return name, check_points(name, modifier)


def validate_provider_modifiers(modifiers: Any) -> dict[str, int]:
    """Check a ``{provider_name: modifier}`` mapping; return it as a plain dict."""
    if not isinstance(modifiers, Mapping):
        raise ValidationError(
            "modifiers", f"expected a mapping of provider names to integers, got {type(modifiers).__name__}"
        )
    return dict(validate_modifier(name, value) for name, value in modifiers.items())
