"""``/api/v1/events``: the event catalog and firing an event from another tool."""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIBlueprint

from sublarr.core.events.catalog import describe_catalog
from sublarr.core.events.emit import emit_event
from sublarr.core.plugin_manager import get_plugin_manager
from sublarr.core.web.schemas import CatalogSchema, EmittedSchema, ErrorSchema, EventPayloadSchema, responses

logger = logging.getLogger(__name__)

events_api = APIBlueprint("events", __name__, url_prefix="/api/v1/events", tag="Events")


@events_api.get("/catalog")
@events_api.output(CatalogSchema)
@events_api.doc(summary="The event catalog: built-in and plugin events with their payload keys")
def get_catalog() -> dict[str, Any]:
    get_plugin_manager()  # plugins' events join the catalog when they load
    return describe_catalog()


@events_api.post("/<string:name>/emit")
@events_api.input(EventPayloadSchema, arg_name="payload")
@events_api.output(EmittedSchema, status_code=202)
@events_api.doc(
    summary="Fire event NAME with the body as its payload",
    description="The payload is checked like `emit_event`: only the event's payload keys, JSON "
    "values, no credentials, no absolute paths. Plugins, Socket.IO clients, hooks and webhooks "
    "all see it. 202 means its hook and webhook deliveries are stored; when they cannot be "
    "(a full disk, a damaged database) the answer is 503 and the hooks and webhooks will not run.",
    responses=responses(
        r404=("No such event", ErrorSchema),
        r422=("Payload refused", ErrorSchema),
        r503=("The event's hook and webhook deliveries could not be stored; nothing to rely on", ErrorSchema),
    ),
)
def emit(name: str, payload: dict[str, Any]) -> tuple[dict[str, Any], int]:
    get_plugin_manager()
    event_id = emit_event(name, dict(payload))
    logger.info("event %s (%s) emitted through the API", name, event_id)
    return {"event": name, "event_id": event_id}, 202
