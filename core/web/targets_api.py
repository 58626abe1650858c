"""The REST resource of one kind of delivery target: CRUD and test runs of script hooks or webhooks.

``target_blueprint(resource)`` builds ``/api/v1/<name>`` for a ``TargetResource``:
``GET ""`` (list), ``POST ""`` (create), ``GET/PUT/DELETE "/{<label>_id}"`` and
``POST "/{<label>_id}/test"`` (run once now with a sample payload, like the Test button
of Sonarr's connections). Every record is shown through the kind's ``public`` view
(webhook secrets masked). A value the delivery pipeline refuses (a script outside the
hooks directory, a URL into a denied network) is a 422 naming its field.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apiflask import APIBlueprint, Schema
from flask import current_app

from sublarr.core.delivery import admin
from sublarr.core.delivery.fire import fire_target
from sublarr.core.errors import ValidationError
from sublarr.core.web.schemas import ErrorSchema, TestResultSchema, responses

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TargetResource:
    """What the REST resource of one kind of target needs: schemas, names, documentation."""

    kind: admin.TargetKind
    name: str  # "hooks": URL part, blueprint name and list key
    tag: str  # OpenAPI tag
    create_schema: type[Schema]
    update_schema: type[Schema]
    item_schema: type[Schema]
    list_schema: type[Schema]
    summaries: dict[str, str]  # view -> OpenAPI summary: list, create, get, update, delete, test
    not_found: str  # description of the 404
    refused: str  # description of the 422
    # Extra documented answers of PUT (e.g. {"r409": (description, ErrorSchema)}).
    update_responses: dict[str, tuple[str, type[Schema]]] = field(default_factory=dict)
    # (stored record, PUT body) -> the fields to change; webhooks drop masked values sent back.
    unmask: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] = lambda stored, body: body
    # What create and update answer, when it differs from item_schema (a generated secret).
    saved_schema: type[Schema] | None = None
    # (request body, saved record, created?) -> fields added to that one answer (a generated secret).
    reveal: Callable[[dict[str, Any], dict[str, Any], bool], dict[str, Any]] = lambda *_: {}


def _settings() -> Any:
    return current_app.extensions["sublarr.settings"]


def target_blueprint(resource: TargetResource) -> APIBlueprint:
    """The blueprint of ``resource``'s routes (view names as ``list_hooks``, ``get_hook``, ...)."""
    kind, label = resource.kind, resource.kind.label
    bp = APIBlueprint(resource.name, __name__, url_prefix=f"/api/v1/{resource.name}", tag=resource.tag)
    one = f"/<int:{label}_id>"
    missing = (resource.not_found, ErrorSchema)
    refused = (resource.refused, ErrorSchema)
    not_found = responses(r404=missing)

    def save(target_id: int | None, fields: dict[str, Any]) -> dict[str, Any]:
        try:
            if target_id is None:
                return admin.add(kind, settings=_settings(), **fields)
            return admin.update(kind, target_id, settings=_settings(), **fields)
        except kind.refused as exc:
            raise ValidationError(kind.refused_field, str(exc)) from None

    @bp.get("", endpoint=f"list_{resource.name}")
    @bp.output(resource.list_schema)
    @bp.doc(summary=resource.summaries["list"])
    def list_view() -> dict[str, Any]:
        return {resource.name: admin.list_targets(kind)}

    saved_schema = resource.saved_schema or resource.item_schema

    @bp.post("", endpoint=f"create_{label}")
    @bp.input(resource.create_schema, arg_name="body")
    @bp.output(saved_schema, status_code=201)
    @bp.doc(summary=resource.summaries["create"], responses=responses(r422=refused))
    def create_view(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        record = save(None, body)
        logger.info("%s %d created through the API", label, record["id"])
        return {**kind.public(record), **resource.reveal(body, record, True)}, 201

    @bp.get(one, endpoint=f"get_{label}")
    @bp.output(resource.item_schema)
    @bp.doc(summary=resource.summaries["get"], responses=not_found)
    def get_view(**ids: int) -> dict[str, Any]:
        return kind.public(admin.get(kind, ids[f"{label}_id"]))

    @bp.put(one, endpoint=f"update_{label}")
    @bp.input(resource.update_schema, arg_name="body")
    @bp.output(saved_schema)
    @bp.doc(
        summary=resource.summaries["update"],
        responses=responses(r404=missing, **resource.update_responses, r422=refused),
    )
    def update_view(body: dict[str, Any], **ids: int) -> dict[str, Any]:
        target_id = ids[f"{label}_id"]
        fields = resource.unmask(admin.get(kind, target_id), body)
        record = save(target_id, fields)
        return {**kind.public(record), **resource.reveal(fields, record, False)}

    @bp.delete(one, endpoint=f"delete_{label}")
    @bp.output({}, status_code=204)
    @bp.doc(summary=resource.summaries["delete"], responses=not_found)
    def delete_view(**ids: int) -> tuple[str, int]:
        target_id = ids[f"{label}_id"]
        admin.get(kind, target_id)
        admin.remove(kind, target_id)
        return "", 204

    @bp.post(f"{one}/test", endpoint="run_test")
    @bp.output(TestResultSchema)
    @bp.doc(summary=resource.summaries["test"], responses=not_found)
    def test_view(**ids: int) -> dict[str, Any]:
        target_id = ids[f"{label}_id"]
        admin.get(kind, target_id)
        result = fire_target(kind, target_id, settings=_settings())
        logger.info("%s %d tested through the API: %s", label, target_id, result.outcome)
        return result.as_dict()

    return bp
