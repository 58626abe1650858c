"""``/api/v1/scoring``: stored weights, provider modifiers and preferences, score explanations, presets.

Writes are checked in full (by ``sublarr.core.scoring.validation``, as storage, the CLI and
presets check them) before anything is stored, so a request with one bad weight or
modifier changes nothing (422). Storage drops the scorer's cache after every write, so the
next score and the next ``GET`` see the change.
"""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIBlueprint

from sublarr.core.db import scoring as store
from sublarr.core.errors import ValidationError
from sublarr.core.scoring import (
    DEFAULT_WEIGHTS,
    SCORE_TYPES,
    SubtitleResult,
    VideoQuery,
    effective_weights,
    explain_score,
    validate_modifier,
    validate_weights,
)
from sublarr.core.scoring.presets import (
    apply_bundled_preset,
    bundled_presets,
    export_scoring_preset,
    get_bundled_preset,
    import_scoring_preset,
)
from sublarr.core.scoring.validation import nested
from sublarr.core.web.schemas import (
    BundledPresetListSchema,
    ErrorSchema,
    ExplainRequestSchema,
    ExplanationSchema,
    ImportedSchema,
    ModifiersSchema,
    ModifiersUpdateSchema,
    PreferenceSectionQuerySchema,
    PreferencesSchema,
    PreferencesUpdateSchema,
    PresetImportSchema,
    PresetSchema,
    ScoreTypeQuerySchema,
    WeightsUpdateSchema,
    WeightsViewSchema,
    responses,
)

logger = logging.getLogger(__name__)

scoring_api = APIBlueprint("scoring", __name__, url_prefix="/api/v1/scoring", tag="Scoring")

_REFUSED = ("A weight key, provider name or value is refused", ErrorSchema)


def _weights_view() -> dict[str, Any]:
    return {
        "effective": {t: effective_weights(t) for t in SCORE_TYPES},
        "defaults": {t: dict(DEFAULT_WEIGHTS[t]) for t in SCORE_TYPES},
        "stored": {t: store.get_scoring_weights(t) for t in SCORE_TYPES},
    }


@scoring_api.get("/weights")
@scoring_api.output(WeightsViewSchema)
@scoring_api.doc(summary="Weights per score type: effective (what scoring uses), defaults, stored")
def get_weights() -> dict[str, Any]:
    return _weights_view()


@scoring_api.put("/weights")
@scoring_api.input(WeightsUpdateSchema, arg_name="body")
@scoring_api.output(WeightsViewSchema)
@scoring_api.doc(
    summary="Store weight overrides; keys not sent keep their value",
    responses=responses(r422=_REFUSED),
)
def put_weights(body: dict[str, Any]) -> dict[str, Any]:
    checked = {}
    for score_type, weights in body.items():
        try:
            checked[score_type] = validate_weights(score_type, weights)
        except ValidationError as exc:
            raise nested(score_type, exc) from None
    for score_type, weights in checked.items():
        store.set_scoring_weights(score_type, weights)
    return _weights_view()


@scoring_api.delete("/weights")
@scoring_api.input(ScoreTypeQuerySchema, location="query", arg_name="query")
@scoring_api.output(WeightsViewSchema)
@scoring_api.doc(summary="Drop the stored overrides (of one score type, or all): back to defaults")
def reset_weights(query: dict[str, Any]) -> dict[str, Any]:
    store.reset_scoring_weights(query.get("score_type"))
    return _weights_view()


@scoring_api.get("/modifiers")
@scoring_api.output(ModifiersSchema)
@scoring_api.doc(summary="Stored per-provider score modifiers")
def get_modifiers() -> dict[str, Any]:
    return {"modifiers": store.get_all_provider_modifiers()}


@scoring_api.put("/modifiers")
@scoring_api.input(ModifiersUpdateSchema, arg_name="body")
@scoring_api.output(ModifiersSchema)
@scoring_api.doc(
    summary="Store modifiers per provider; providers not sent stay as they are",
    responses=responses(r422=_REFUSED),
)
def put_modifiers(body: dict[str, Any]) -> dict[str, Any]:
    checked = {}
    for name, value in body["modifiers"].items():
        try:
            provider, modifier = validate_modifier(name, value)
        except ValidationError as exc:
            raise ValidationError(f"modifiers.{name}", exc.reason) from None
        checked[provider] = modifier
    for provider, modifier in checked.items():
        store.set_provider_modifier(provider, modifier)
    return {"modifiers": store.get_all_provider_modifiers()}


@scoring_api.delete("/modifiers/<string:provider>")
@scoring_api.output({}, status_code=204)
@scoring_api.doc(
    summary="Delete the modifier of a provider",
    responses=responses(r404=("No modifier stored for this provider", ErrorSchema)),
)
def delete_modifier(provider: str) -> tuple[str, int]:
    store.delete_provider_modifier(provider)
    return "", 204


@scoring_api.post("/explain")
@scoring_api.input(ExplainRequestSchema, arg_name="body")
@scoring_api.output(ExplanationSchema)
@scoring_api.doc(summary="Score one subtitle result for a video and say where every point came from")
def explain(body: dict[str, Any]) -> dict[str, Any]:
    query = VideoQuery(**body["query"])
    result = SubtitleResult(**body["result"])
    return explain_score(result, query, body.get("min_score"))


@scoring_api.get("/export")
@scoring_api.output(PresetSchema)
@scoring_api.doc(summary="The stored weights and modifiers as a preset document")
def export_preset() -> dict[str, Any]:
    return export_scoring_preset()


@scoring_api.post("/import")
@scoring_api.input(PresetImportSchema, arg_name="body")
@scoring_api.output(ImportedSchema)
@scoring_api.doc(
    summary="Replace the stored weights and modifiers with a preset (all or nothing)",
    responses=responses(r422=("The preset is refused; nothing changed", ErrorSchema)),
)
def import_preset(body: dict[str, Any]) -> dict[str, Any]:
    return import_scoring_preset(dict(body))


@scoring_api.get("/preferences")
@scoring_api.output(PreferencesSchema)
@scoring_api.doc(
    summary="Scoring preferences in force: hearing-impaired, forced, uploader trust, "
    "machine-translated, minimum score"
)
def get_preferences() -> dict[str, Any]:
    return store.get_scoring_preferences()


@scoring_api.put("/preferences")
@scoring_api.input(PreferencesUpdateSchema, arg_name="body")
@scoring_api.output(PreferencesSchema)
@scoring_api.doc(
    summary="Store preferences; sections and keys not sent keep their value",
    responses=responses(r422=("A preference or value is refused; nothing changed", ErrorSchema)),
)
def put_preferences(body: dict[str, Any]) -> dict[str, Any]:
    return store.set_scoring_preferences(dict(body))


@scoring_api.delete("/preferences")
@scoring_api.input(PreferenceSectionQuerySchema, location="query", arg_name="query")
@scoring_api.output(PreferencesSchema)
@scoring_api.doc(summary="Drop the stored preferences (of one section, or all): back to defaults")
def reset_preferences(query: dict[str, Any]) -> dict[str, Any]:
    return store.reset_scoring_preferences(query.get("section"))


@scoring_api.get("/presets")
@scoring_api.output(BundledPresetListSchema)
@scoring_api.doc(summary="The bundled presets: defaults, hash-first, strict-release-group, anime")
def list_presets() -> dict[str, Any]:
    return {"presets": bundled_presets()}


@scoring_api.get("/presets/<string:name>")
@scoring_api.output(PresetSchema)
@scoring_api.doc(
    summary="One bundled preset as a preset document",
    responses=responses(r404=("No bundled preset of that name", ErrorSchema)),
)
def show_preset(name: str) -> dict[str, Any]:
    return get_bundled_preset(name)


@scoring_api.post("/presets/<string:name>/apply")
@scoring_api.output(ImportedSchema)
@scoring_api.doc(
    summary="Replace the stored weights, modifiers and preferences with a bundled preset",
    responses=responses(r404=("No bundled preset of that name", ErrorSchema)),
)
def apply_preset(name: str) -> dict[str, Any]:
    return apply_bundled_preset(name)
