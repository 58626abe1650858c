"""Stored scoring weights (overrides of the defaults) and per-provider score modifiers.

* ``score_type`` is ``"episode"`` or ``"movie"``.
* A weight value is an int in -1000..1000. Which weight keys exist is decided by
  ``sublarr.core.scoring.compute.validate_weights(score_type, weights)`` when that function is
  available; otherwise a key only has to be 1..100 characters of ``[A-Za-z0-9_.-]``.
* A provider name is 1..100 characters: letters, digits, ``_ . -``, starting with a
  letter or digit (as ``sublarr.core.scoring.compute.validate_modifier`` has it). A modifier is an
  int in -1000..1000 (0 = no change).
* ints are real ints: ``True`` and ``"5"`` are refused.

Bad input raises ``ValidationError`` (naming the field) before anything is written. Each
call writes in one transaction; after the commit, ``config_updated`` is emitted with
``section`` ``"scoring_weights"`` (keys like ``"episode.hash"``) or
``"provider_modifiers"`` (keys are provider names), so scorers can drop their caches.
Nothing is emitted when nothing was written.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from sublarr.core.db.engine import session_scope
from sublarr.core.db.models import ProviderScoreModifier, ScoringWeight, utcnow_iso
from sublarr.core.db.validators import check_int, check_pattern
from sublarr.core.errors import NotFoundError, ValidationError
from sublarr.core.events.emit import emit_event

__all__ = [
    "MODIFIER_RANGE",
    "SCORE_TYPES",
    "WEIGHT_RANGE",
    "delete_provider_modifier",
    "get_all_provider_modifiers",
    "get_all_scoring_weights",
    "get_provider_modifier",
    "get_scoring_weights",
    "replace_scoring_config",
    "reset_scoring_weights",
    "set_provider_modifier",
    "set_scoring_weights",
]

logger = logging.getLogger(__name__)

SCORE_TYPES: tuple[str, ...] = ("episode", "movie")
WEIGHT_RANGE = (-1000, 1000)
MODIFIER_RANGE = (-1000, 1000)
PROVIDER_NAME_MAX_CHARS = 100
WEIGHT_KEY_MAX_CHARS = 100
SECTION_WEIGHTS = "scoring_weights"
SECTION_MODIFIERS = "provider_modifiers"

_WEIGHT_KEY = re.compile(r"[A-Za-z0-9_.\-]+")
_PROVIDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_SCORING_MODULE = "sublarr.core.scoring.compute"


# ---- validation ------------------------------------------------------------------------


def _scoring_module() -> Any:
    """``sublarr.core.scoring.compute`` when it exists, else ``None`` (its own errors propagate)."""
    module = sys.modules.get(_SCORING_MODULE)
    if module is not None:
        return module
    if importlib.util.find_spec(_SCORING_MODULE) is None:
        return None
    return importlib.import_module(_SCORING_MODULE)


def _check_score_type(score_type: Any) -> str:
    if not isinstance(score_type, str) or score_type not in SCORE_TYPES:
        raise ValidationError("score_type", f"must be one of {', '.join(SCORE_TYPES)}, got {score_type!r}")
    return score_type


def _check_weight_items(weights: Mapping[Any, Any]) -> dict[str, int]:
    checked: dict[str, int] = {}
    for key, value in weights.items():
        check_pattern("weights", key, WEIGHT_KEY_MAX_CHARS, _WEIGHT_KEY, "weight keys are [A-Za-z0-9_.-]")
        checked[key] = check_int(f"weights.{key}", value, *WEIGHT_RANGE)
    return checked


def _check_weights(score_type: Any, weights: Any) -> dict[str, int]:
    score_type = _check_score_type(score_type)
    if not isinstance(weights, Mapping):
        raise ValidationError("weights", f"must be a dict of weight key to int, got {type(weights).__name__}")
    checked = _check_weight_items(weights)
    validate = getattr(_scoring_module(), "validate_weights", None)
    if validate is None or not checked:
        return checked
    try:
        result = validate(score_type, dict(checked))
    except ValidationError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise ValidationError("weights", str(exc)) from exc
    # Re-check what comes back: stored values must stay ints within range.
    return _check_weight_items(result) if isinstance(result, Mapping) else checked


def _check_provider_name(provider_name: Any) -> str:
    return check_pattern(
        "provider_name",
        provider_name,
        PROVIDER_NAME_MAX_CHARS,
        _PROVIDER_NAME,
        "letters, digits and _ . - only, starting with a letter or digit",
    )


def _check_modifier(modifier: Any, field: str = "modifier") -> int:
    return check_int(field, modifier, *MODIFIER_RANGE)


# ---- writing helpers -------------------------------------------------------------------


def _upsert(session: Session, model: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """Insert ``rows`` or update the existing ones with the same ``keys`` (atomic per row)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        stmt = insert(model).values(rows)
        changed = [name for name in rows[0] if name not in keys]
        stmt = stmt.on_conflict_do_update(
            index_elements=keys, set_={name: stmt.excluded[name] for name in changed}
        )
        session.execute(stmt)
        return
    # Any other database: update, and insert what did not exist yet.
    table = model.__table__
    for row in rows:
        where = [table.c[name] == row[name] for name in keys]
        result = session.execute(update(table).where(*where).values(**row))
        if result.rowcount == 0:
            session.execute(table.insert().values(**row))


def _emit(section: str, keys: list[str]) -> None:
    """Tell listeners that ``keys`` of ``section`` changed (after the commit)."""
    if not keys:
        return
    try:
        emit_event("config_updated", {"section": section, "keys": sorted(set(keys))})
    except Exception:  # noqa: BLE001 - the write is committed; a broken emit must not undo it
        logger.exception("could not emit config_updated for %s", section)


def _weight_rows(score_type: str, weights: Mapping[str, int], now: str) -> list[dict[str, Any]]:
    return [
        {"score_type": score_type, "weight_key": key, "weight_value": value, "updated_at": now}
        for key, value in weights.items()
    ]


# ---- scoring weights -------------------------------------------------------------------


def get_scoring_weights(score_type: str) -> dict[str, int]:
    """The stored weight overrides of ``score_type`` (``{}`` when none; merge with the defaults)."""
    score_type = _check_score_type(score_type)
    with session_scope() as session:
        rows = session.execute(
            select(ScoringWeight.weight_key, ScoringWeight.weight_value)
            .where(ScoringWeight.score_type == score_type)
            .order_by(ScoringWeight.weight_key)
        )
        return {key: value for key, value in rows}


def set_scoring_weights(score_type: str, weights: Mapping[str, int]) -> None:
    """Store the overrides ``weights`` of ``score_type``; other stored keys stay as they are."""
    checked = _check_weights(score_type, weights)
    if not checked:
        return
    with session_scope() as session:
        _upsert(
            session,
            ScoringWeight,
            _weight_rows(score_type, checked, utcnow_iso()),
            ["score_type", "weight_key"],
        )
    logger.info("scoring weights of %s set: %s", score_type, ", ".join(sorted(checked)))
    _emit(SECTION_WEIGHTS, [f"{score_type}.{key}" for key in checked])


def _default_weights(score_type: str) -> dict[str, int]:
    """The built-in weights of ``score_type`` from ``sublarr.core.scoring.compute``, when it has them."""
    module = _scoring_module()
    if module is None:
        return {}
    default_weights = getattr(module, "default_weights", None)
    if callable(default_weights):
        return dict(default_weights(score_type))
    constant = getattr(module, "EPISODE_SCORES" if score_type == "episode" else "MOVIE_SCORES", None)
    return dict(constant) if isinstance(constant, Mapping) else {}


def get_all_scoring_weights() -> dict[str, dict[str, int]]:
    """``{"episode": {...}, "movie": {...}}``: the defaults with the stored overrides applied.

    When ``sublarr.core.scoring.compute`` offers no defaults, only the stored overrides.
    """
    with session_scope() as session:
        rows = session.execute(
            select(ScoringWeight.score_type, ScoringWeight.weight_key, ScoringWeight.weight_value)
        ).all()
    result: dict[str, dict[str, int]] = {}
    for score_type in SCORE_TYPES:
        merged = _default_weights(score_type)
        merged.update({key: value for kind, key, value in rows if kind == score_type})
        result[score_type] = dict(sorted(merged.items()))
    return result


def reset_scoring_weights(score_type: str | None = None) -> None:
    """Delete the stored overrides of ``score_type`` (of both types when ``None``)."""
    if score_type is not None:
        _check_score_type(score_type)
    conditions = [] if score_type is None else [ScoringWeight.score_type == score_type]
    with session_scope() as session:
        removed = session.execute(
            select(ScoringWeight.score_type, ScoringWeight.weight_key).where(*conditions)
        ).all()
        session.execute(
            delete(ScoringWeight).where(*conditions), execution_options={"synchronize_session": False}
        )
    logger.info("scoring weights reset (%s): %d override(s) removed", score_type or "all", len(removed))
    _emit(SECTION_WEIGHTS, [f"{kind}.{key}" for kind, key in removed])


# ---- provider modifiers ----------------------------------------------------------------


def get_provider_modifier(provider_name: str) -> int:
    """The modifier of ``provider_name``; 0 when none is stored."""
    if not isinstance(provider_name, str):
        raise ValidationError("provider_name", f"must be a string, got {type(provider_name).__name__}")
    with session_scope() as session:
        value = session.scalar(
            select(ProviderScoreModifier.modifier).where(ProviderScoreModifier.provider_name == provider_name)
        )
    return int(value) if value is not None else 0


def get_all_provider_modifiers() -> dict[str, int]:
    """Every stored modifier: provider name to modifier."""
    with session_scope() as session:
        rows = session.execute(
            select(ProviderScoreModifier.provider_name, ProviderScoreModifier.modifier).order_by(
                ProviderScoreModifier.provider_name
            )
        )
        return {name: value for name, value in rows}


def set_provider_modifier(provider_name: str, modifier: int) -> None:
    """Store ``modifier`` (-1000..1000) for ``provider_name``."""
    provider_name = _check_provider_name(provider_name)
    modifier = _check_modifier(modifier)
    with session_scope() as session:
        _upsert(
            session,
            ProviderScoreModifier,
            [{"provider_name": provider_name, "modifier": modifier, "updated_at": utcnow_iso()}],
            ["provider_name"],
        )
    logger.info("provider modifier of %s set to %d", provider_name, modifier)
    _emit(SECTION_MODIFIERS, [provider_name])


def delete_provider_modifier(provider_name: str) -> None:
    """Delete the modifier of ``provider_name``; ``NotFoundError`` when none is stored."""
    if not isinstance(provider_name, str):
        raise ValidationError("provider_name", f"must be a string, got {type(provider_name).__name__}")
    with session_scope() as session:
        result = session.execute(
            delete(ProviderScoreModifier).where(ProviderScoreModifier.provider_name == provider_name),
            execution_options={"synchronize_session": False},
        )
        if result.rowcount == 0:
            raise NotFoundError(f"no score modifier stored for provider {provider_name!r}")
    logger.info("provider modifier of %s deleted", provider_name)
    _emit(SECTION_MODIFIERS, [provider_name])


# ---- whole configuration ---------------------------------------------------------------


def replace_scoring_config(weights: Mapping[str, Mapping[str, int]], modifiers: Mapping[str, int]) -> None:
    """Replace every stored weight and modifier in one transaction (preset import).

    ``weights`` maps a score type to its overrides (a missing type ends up with none);
    ``modifiers`` maps provider names to modifiers. Everything is validated first.
    """
    if not isinstance(weights, Mapping):
        raise ValidationError(
            "weights", f"must be a dict of score type to weights, got {type(weights).__name__}"
        )
    if not isinstance(modifiers, Mapping):
        raise ValidationError(
            "modifiers", f"must be a dict of provider name to int, got {type(modifiers).__name__}"
        )
    checked_weights = {
        _check_score_type(kind): _check_weights(kind, values) for kind, values in weights.items()
    }
    checked_modifiers = {
        _check_provider_name(name): _check_modifier(value, f"modifiers.{name}")
        for name, value in modifiers.items()
    }
    now = utcnow_iso()
    with session_scope() as session:
        old_weights = session.execute(select(ScoringWeight.score_type, ScoringWeight.weight_key)).all()
        old_modifiers = session.scalars(select(ProviderScoreModifier.provider_name)).all()
        session.execute(delete(ScoringWeight), execution_options={"synchronize_session": False})
        session.execute(delete(ProviderScoreModifier), execution_options={"synchronize_session": False})
        rows = [row for kind, values in checked_weights.items() for row in _weight_rows(kind, values, now)]
        if rows:
            session.execute(ScoringWeight.__table__.insert(), rows)
        if checked_modifiers:
            session.execute(
                ProviderScoreModifier.__table__.insert(),
                [
                    {"provider_name": n, "modifier": m, "updated_at": now}
                    for n, m in checked_modifiers.items()
                ],
            )
    logger.info(
        "scoring configuration replaced: %d weight override(s), %d provider modifier(s)",
        len(rows),
        len(checked_modifiers),
    )
    _emit(
        SECTION_WEIGHTS,
        [f"{kind}.{key}" for kind, key in old_weights]
        + [f"{kind}.{key}" for kind, values in checked_weights.items() for key in values],
    )
    _emit(SECTION_MODIFIERS, list(old_modifiers) + list(checked_modifiers))
