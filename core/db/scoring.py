"""Stored scoring weights (overrides of the defaults) and per-provider score modifiers.

Input is checked by ``sublarr.core.scoring.validation``, the one set of scoring rules the
scorer, the REST API, the CLI and presets use too:

* ``score_type`` is ``"episode"`` or ``"movie"``;
* a weight key is one the defaults define or a plugin declares (``weight_keys`` hook);
* a provider name is 1..100 characters: letters, digits, ``_ . -``, starting with a letter
  or digit (no spaces);
* weights and modifiers are real ints in -1000..1000 (``True`` and ``"5"`` are refused).

Bad input raises ``ValidationError`` (naming the field) before anything is written. Each
call writes in one transaction; after the commit the scoring caches of this process are
dropped (``invalidate_scoring_cache``) and ``config_updated`` is emitted with ``section``
``"scoring_weights"`` (keys like ``"episode.hash"``) or ``"provider_modifiers"`` (keys are
provider names). Nothing is emitted when nothing was written.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from sublarr.core.db.engine import session_scope
from sublarr.core.db.models import ProviderScoreModifier, ScoringPreference, ScoringWeight, utcnow_iso
from sublarr.core.errors import NotFoundError, ValidationError
from sublarr.core.events.emit import emit_event
from sublarr.core.scoring.cache import invalidate_scoring_cache
from sublarr.core.scoring.preferences import (
    DEFAULT_PREFERENCES,
    default_preferences,
    merge_preferences,
    validate_preferences,
)
from sublarr.core.scoring.validation import (
    WEIGHT_MAX,
    WEIGHT_MIN,
    check_points,
    check_provider_name,
    nested,
    validate_score_type,
    validate_weights,
)
from sublarr.core.scoring.weights import DEFAULT_WEIGHTS, SCORE_TYPES

__all__ = [
    "MODIFIER_RANGE",
    "SCORE_TYPES",
    "WEIGHT_RANGE",
    "delete_provider_modifier",
    "get_all_provider_modifiers",
    "get_all_scoring_weights",
    "get_provider_modifier",
    "get_scoring_preferences",
    "get_scoring_weights",
    "get_stored_preferences",
    "replace_scoring_config",
    "replace_scoring_preferences",
    "reset_scoring_preferences",
    "reset_scoring_weights",
    "set_provider_modifier",
    "set_scoring_preferences",
    "set_scoring_weights",
]

logger = logging.getLogger(__name__)

WEIGHT_RANGE = (WEIGHT_MIN, WEIGHT_MAX)
MODIFIER_RANGE = (WEIGHT_MIN, WEIGHT_MAX)
SECTION_WEIGHTS = "scoring_weights"
SECTION_MODIFIERS = "provider_modifiers"
SECTION_PREFERENCES = "scoring_preferences"


def _check_weights(score_type: Any, weights: Any) -> dict[str, int]:
    """The weights, checked; a bad entry's field is ``weights.<key>``."""
    validate_score_type(score_type)
    try:
        return validate_weights(score_type, weights)
    except ValidationError as exc:
        raise (exc if exc.field == "weights" else nested("weights", exc)) from None


# ---- writing helpers -------------------------------------------------------------------


def _upsert(session: Session, model: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """Insert ``rows`` or update the existing ones with the same ``keys`` (atomic per row)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        stmt: Any = (sqlite if dialect == "sqlite" else postgresql).insert(model).values(rows)
        changed = [name for name in rows[0] if name not in keys]
        stmt = stmt.on_conflict_do_update(
            index_elements=keys, set_={name: stmt.excluded[name] for name in changed}
        )
        session.execute(stmt)
        return
    # Any other database: update, and insert what did not exist yet.
    columns = model.__table__.c
    for row in rows:
        where = [columns[name] == row[name] for name in keys]
        result = cast(CursorResult[Any], session.execute(update(model).where(*where).values(**row)))
        if result.rowcount == 0:
            session.execute(insert(model).values(**row))


def _changed(section: str, keys: list[str]) -> None:
    """After a commit that changed ``keys`` of ``section``: drop the scoring caches, tell listeners."""
    if not keys:
        return
    invalidate_scoring_cache()
    try:
        emit_event("config_updated", {"section": section, "keys": sorted(set(keys))})
    except Exception:  # the write is committed; a broken emit must not undo it
        logger.exception("could not emit config_updated for %s", section)


def _weight_rows(score_type: str, weights: Mapping[str, int], now: str) -> list[dict[str, Any]]:
    return [
        {"score_type": score_type, "weight_key": key, "weight_value": value, "updated_at": now}
        for key, value in weights.items()
    ]


# ---- scoring weights -------------------------------------------------------------------


def get_scoring_weights(score_type: str) -> dict[str, int]:
    """The stored weight overrides of ``score_type`` (``{}`` when none; merge with the defaults)."""
    validate_score_type(score_type)
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
    _changed(SECTION_WEIGHTS, [f"{score_type}.{key}" for key in checked])


def get_all_scoring_weights() -> dict[str, dict[str, int]]:
    """``{"episode": {...}, "movie": {...}}``: the default weights with the stored overrides applied."""
    with session_scope() as session:
        rows = session.execute(
            select(ScoringWeight.score_type, ScoringWeight.weight_key, ScoringWeight.weight_value)
        ).all()
    result: dict[str, dict[str, int]] = {}
    for score_type in SCORE_TYPES:
        merged = dict(DEFAULT_WEIGHTS[score_type])
        merged.update({key: value for kind, key, value in rows if kind == score_type})
        result[score_type] = dict(sorted(merged.items()))
    return result


def reset_scoring_weights(score_type: str | None = None) -> None:
    """Delete the stored overrides of ``score_type`` (of both types when ``None``)."""
    if score_type is not None:
        validate_score_type(score_type)
    conditions = [] if score_type is None else [ScoringWeight.score_type == score_type]
    with session_scope() as session:
        removed = session.execute(
            select(ScoringWeight.score_type, ScoringWeight.weight_key).where(*conditions)
        ).all()
        session.execute(
            delete(ScoringWeight).where(*conditions), execution_options={"synchronize_session": False}
        )
    logger.info("scoring weights reset (%s): %d override(s) removed", score_type or "all", len(removed))
    _changed(SECTION_WEIGHTS, [f"{kind}.{key}" for kind, key in removed])


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
    provider_name = check_provider_name(provider_name)
    modifier = check_points("modifier", modifier)
    with session_scope() as session:
        _upsert(
            session,
            ProviderScoreModifier,
            [{"provider_name": provider_name, "modifier": modifier, "updated_at": utcnow_iso()}],
            ["provider_name"],
        )
    logger.info("provider modifier of %s set to %d", provider_name, modifier)
    _changed(SECTION_MODIFIERS, [provider_name])


def delete_provider_modifier(provider_name: str) -> None:
    """Delete the modifier of ``provider_name``; ``NotFoundError`` when none is stored."""
    if not isinstance(provider_name, str):
        raise ValidationError("provider_name", f"must be a string, got {type(provider_name).__name__}")
    with session_scope() as session:
        result = session.execute(
            delete(ProviderScoreModifier).where(ProviderScoreModifier.provider_name == provider_name),
            execution_options={"synchronize_session": False},
        )
        if cast(CursorResult[Any], result).rowcount == 0:
            raise NotFoundError(f"no score modifier stored for provider {provider_name!r}")
    logger.info("provider modifier of %s deleted", provider_name)
    _changed(SECTION_MODIFIERS, [provider_name])


# ---- whole configuration ---------------------------------------------------------------


def replace_scoring_config(
    weights: Mapping[str, Mapping[str, int]],
    modifiers: Mapping[str, int],
    preferences: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Replace every stored weight and modifier in one transaction (preset import).

    ``weights`` maps a score type to its overrides (a missing type ends up with none);
    ``modifiers`` maps provider names to modifiers; ``preferences``, unless ``None``,
    replaces the stored preferences (keys left out are back to their defaults).
    Everything is validated first.
    """
    if not isinstance(weights, Mapping):
        raise ValidationError(
            "weights", f"must be a dict of score type to weights, got {type(weights).__name__}"
        )
    if not isinstance(modifiers, Mapping):
        raise ValidationError(
            "modifiers", f"must be a dict of provider name to int, got {type(modifiers).__name__}"
        )
    checked_weights = {kind: _check_weights(kind, values) for kind, values in weights.items()}
    checked_modifiers = {
        check_provider_name(name): check_points(f"modifiers.{name}", value)
        for name, value in modifiers.items()
    }
    checked_preferences = None if preferences is None else validate_preferences(preferences)
    changed_preferences: list[str] = []
    now = utcnow_iso()
    with session_scope() as session:
        if checked_preferences is not None:
            changed_preferences = replace_scoring_preferences(session, checked_preferences)
        old_weights = session.execute(select(ScoringWeight.score_type, ScoringWeight.weight_key)).all()
        old_modifiers = session.scalars(select(ProviderScoreModifier.provider_name)).all()
        session.execute(delete(ScoringWeight), execution_options={"synchronize_session": False})
        session.execute(delete(ProviderScoreModifier), execution_options={"synchronize_session": False})
        rows = [row for kind, values in checked_weights.items() for row in _weight_rows(kind, values, now)]
        if rows:
            session.execute(insert(ScoringWeight), rows)
        if checked_modifiers:
            session.execute(
                insert(ProviderScoreModifier),
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
    _changed(
        SECTION_WEIGHTS,
        [f"{kind}.{key}" for kind, key in old_weights]
        + [f"{kind}.{key}" for kind, values in checked_weights.items() for key in values],
    )
    _changed(SECTION_MODIFIERS, list(old_modifiers) + list(checked_modifiers))
    _changed(SECTION_PREFERENCES, changed_preferences)


# ---- scoring preferences ---------------------------------------------------------------


def _preference_rows(preferences: Mapping[str, Mapping[str, Any]], now: str) -> list[dict[str, Any]]:
    return [
        {"pref_key": f"{section}.{key}", "pref_value": json.dumps(value, sort_keys=True), "updated_at": now}
        for section, values in preferences.items()
        for key, value in values.items()
    ]


def get_stored_preferences() -> dict[str, dict[str, Any]]:
    """The stored preference values only (``{}`` when none): section to key to value.

    A stored row that no longer validates (a key this version does not know) is left out.
    """
    with session_scope() as session:
        rows = session.execute(select(ScoringPreference.pref_key, ScoringPreference.pref_value)).all()
    stored: dict[str, dict[str, Any]] = {}
    for pref_key, raw in rows:
        section, _, key = pref_key.partition(".")
        try:
            checked = validate_preferences({section: {key: json.loads(raw)}})
        except (ValidationError, ValueError):
            logger.warning("ignoring stored scoring preference %r: not valid in this version", pref_key)
            continue
        stored.setdefault(section, {}).update(checked[section])
    return stored


def get_scoring_preferences() -> dict[str, dict[str, Any]]:
    """Every preference in force: the defaults with the stored values applied."""
    return merge_preferences(default_preferences(), get_stored_preferences())


def set_scoring_preferences(preferences: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Store the (partial) ``preferences``; keys not given keep their value. Returns all in force.

    ``uploader_trust.uploaders`` is one value: the given mapping replaces the stored one.
    """
    checked = validate_preferences(preferences)
    rows = _preference_rows(checked, utcnow_iso())
    if rows:
        with session_scope() as session:
            _upsert(session, ScoringPreference, rows, ["pref_key"])
        logger.info("scoring preferences set: %s", ", ".join(r["pref_key"] for r in rows))
        _changed(SECTION_PREFERENCES, [r["pref_key"] for r in rows])
    return get_scoring_preferences()


def reset_scoring_preferences(section: str | None = None) -> dict[str, dict[str, Any]]:
    """Delete the stored preferences (of one section, or all): the defaults apply. Returns all in force."""
    if section is not None and section not in DEFAULT_PREFERENCES:
        raise ValidationError(
            "section", f"unknown preference {section!r} (known: {', '.join(DEFAULT_PREFERENCES)})"
        )
    conditions = [] if section is None else [ScoringPreference.pref_key.startswith(f"{section}.")]
    with session_scope() as session:
        removed = session.scalars(select(ScoringPreference.pref_key).where(*conditions)).all()
        session.execute(
            delete(ScoringPreference).where(*conditions), execution_options={"synchronize_session": False}
        )
    logger.info("scoring preferences reset (%s): %d value(s) removed", section or "all", len(removed))
    _changed(SECTION_PREFERENCES, list(removed))
    return get_scoring_preferences()


def replace_scoring_preferences(session: Session, preferences: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """In ``session``: make ``preferences`` (validated) the whole stored set; return the keys changed."""
    old = session.scalars(select(ScoringPreference.pref_key)).all()
    session.execute(delete(ScoringPreference), execution_options={"synchronize_session": False})
    rows = _preference_rows(preferences, utcnow_iso())
    if rows:
        session.execute(insert(ScoringPreference), rows)
    return [*old, *(r["pref_key"] for r in rows)]
