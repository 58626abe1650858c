"""Incoming webhooks: ``POST /api/v1/webhook/sonarr`` and ``/api/v1/webhook/radarr``.

Point a Sonarr or Radarr *Webhook* connection at these URLs (with ``?apikey=<key>``). Each
call emits ``webhook_received`` with ``source``, ``event_type``, ``media_type``, ``title``,
``year`` and, for Sonarr, ``season`` and ``episode`` - one event per episode the call names
(a season-pack grab names many), or one without season/episode when it names none.
``Test`` calls are answered 200 and emitted too, so a subscriber sees the connection work.
Paths, ids and file details in the body are never forwarded. A malformed body, or one whose
title could not be forwarded (an absolute path), is a 400 naming what is wrong.
"""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIBlueprint
from flask import request
from marshmallow import ValidationError as SchemaError

from sublarr.core.errors import InvalidPayloadError
from sublarr.core.events.emit import emit_event
from sublarr.core.plugin_manager import get_plugin_manager
from sublarr.core.web.api_errors import error_response
from sublarr.core.web.schemas import (
    ArrReceivedSchema,
    ErrorSchema,
    RadarrWebhookSchema,
    SonarrWebhookSchema,
    responses,
)

logger = logging.getLogger(__name__)

arr_webhooks = APIBlueprint("arr_webhooks", __name__, url_prefix="/api/v1/webhook", tag="Incoming webhooks")

MAX_EVENTS_PER_CALL = 1000


def _body(schema: Any) -> dict[str, Any]:
    """The request body loaded with ``schema``; ``ValueError`` carries the reason."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object, as Sonarr/Radarr send it")
    try:
        loaded: dict[str, Any] = schema.load(data)
        return loaded
    except SchemaError as exc:
        raise ValueError(exc.messages) from None


def _emit_all(payloads: list[dict[str, Any]]) -> list[str]:
    get_plugin_manager()
    return [emit_event("webhook_received", payload) for payload in payloads]


def _sonarr_payloads(body: dict[str, Any]) -> list[dict[str, Any]]:
    series = body.get("series") or {}
    base = {
        "source": "sonarr",
        "event_type": body["eventType"],
        "media_type": "episode",
        "title": series.get("title"),
        "year": series.get("year") or None,
        "season": None,
        "episode": None,
    }
    seen: set[tuple[int, int]] = set()
    payloads = []
    for item in body.get("episodes") or []:
        key = (item["seasonNumber"], item["episodeNumber"])
        if key in seen:
            continue
        seen.add(key)
        payloads.append({**base, "season": key[0], "episode": key[1]})
    return payloads[:MAX_EVENTS_PER_CALL] or [base]


def _radarr_payloads(body: dict[str, Any]) -> list[dict[str, Any]]:
    movie = body.get("movie") or {}
    return [
        {
            "source": "radarr",
            "event_type": body["eventType"],
            "media_type": "movie",
            "title": movie.get("title"),
            "year": movie.get("year") or None,
        }
    ]


def _receive(source: str, schema: Any, build: Any) -> Any:
    try:
        body = _body(schema)
    except ValueError as exc:
        logger.info("refused a malformed %s webhook: %s", source, exc.args[0])
        return error_response(400, exc.args[0])
    try:
        event_ids = _emit_all(build(body))
    except InvalidPayloadError as exc:
        logger.info("refused a %s webhook: %s", source, exc)
        return error_response(400, {exc.key or "body": [exc.reason]})
    logger.info("%s webhook %s: %d event(s) emitted", source, body["eventType"], len(event_ids))
    return {"source": source, "event_type": body["eventType"], "event_ids": event_ids}


_DOC = responses(r400=("Not a Sonarr/Radarr webhook, or a value that may not be forwarded", ErrorSchema))


@arr_webhooks.post("/sonarr")
@arr_webhooks.input(SonarrWebhookSchema, validation=False)
@arr_webhooks.output(ArrReceivedSchema)
@arr_webhooks.doc(summary="Sonarr's Webhook connection (Grab, Download, Rename, Test, ...)", responses=_DOC)
def sonarr(json_data: Any = None) -> Any:
    return _receive("sonarr", SonarrWebhookSchema(), _sonarr_payloads)


@arr_webhooks.post("/radarr")
@arr_webhooks.input(RadarrWebhookSchema, validation=False)
@arr_webhooks.output(ArrReceivedSchema)
@arr_webhooks.doc(summary="Radarr's Webhook connection (Grab, Download, Rename, Test, ...)", responses=_DOC)
def radarr(json_data: Any = None) -> Any:
    return _receive("radarr", RadarrWebhookSchema(), _radarr_payloads)
