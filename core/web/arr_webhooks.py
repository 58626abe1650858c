"""Incoming webhooks: ``/api/v1/webhook/sonarr`` and ``/api/v1/webhook/radarr`` (POST or PUT).

Point a Sonarr or Radarr *Webhook* connection at these URLs, method POST or PUT, with the
API key as ``?apikey=<key>`` or as the password of the form's username/password fields
(HTTP Basic; the username is not checked). Each call emits ``webhook_received`` - one
event per episode the call names (a season pack names many, each becomes one event), or
one without season/episode when it names none. ``Test`` calls are answered 200 and emitted
too, so a subscriber sees the connection work.

What is kept of the body (see the catalog for the keys): the title and year; the series or
movie ids (``series_id`` / ``movie_id``, ``tvdb_id``, ``tmdb_id``, ``imdb_id``) and each
episode's ``episode_id``; ``instance_name`` (tells two Sonarr instances apart);
``is_upgrade``; the file's or release's ``quality``, ``release_group`` and ``languages``;
the imported file's ``relative_path`` (relative to the series or movie folder);
``delete_reason``; ``health_level`` / ``health_message`` / ``health_type``; and
``previous_version`` / ``new_version`` of an application update. Absolute paths are never
forwarded (a value that is one is left out); a title is forwarded as it is, even one that
starts with ``/``.

Sonarr sends ``eventType`` ``Download`` both per imported file (the body has
``episodeFile``) and once per finished download (*On Import Complete*: the body has
``episodeFiles``). The second is emitted with ``event_type`` ``ImportComplete`` and
``file_count``, so a subscriber that enables both triggers can tell them apart and count
every import once. A malformed body is a 400 naming what is wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from apiflask import APIBlueprint
from flask import request
from marshmallow import ValidationError as SchemaError

from sublarr.core.errors import InvalidPayloadError
from sublarr.core.events.emit import emit_event
from sublarr.core.events.validation import is_absolute_path
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

IMPORT_COMPLETE = "ImportComplete"
METHODS = ["POST", "PUT"]


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


def _text(value: Any) -> str | None:
    """A non-empty string that is not an absolute path, else None."""
    if isinstance(value, str) and value and not is_absolute_path(value):
        return value
    return None


def _id(value: Any) -> int | None:
    """A positive integer id (0, Sonarr's "none", is None)."""
    return value if type(value) is int and value > 0 else None


def _languages(items: Any) -> list[str] | None:
    """The names of Sonarr/Radarr ``Language`` objects (``{"id": 4, "name": "German"}``)."""
    if not isinstance(items, list):
        return None
    names = [item["name"] for item in items if isinstance(item, dict) and _text(item.get("name"))]
    return names or None


def _media(item: Any) -> dict[str, Any]:
    """Quality, release group and languages of a file or release (keys left out when unknown)."""
    if not isinstance(item, dict):
        return {}
    media = {
        "quality": _text(item.get("quality")),
        "release_group": _text(item.get("releaseGroup")),
        "languages": _languages(item.get("languages")),
    }
    return {key: value for key, value in media.items() if value is not None}


def _common(source: str, body: dict[str, Any], media_type: str) -> dict[str, Any]:
    """The keys every call gives: what happened, where, and the health/update details."""
    payload: dict[str, Any] = {
        "source": source,
        "event_type": body["eventType"],
        "media_type": media_type,
        "instance_name": _text(body.get("instanceName")),
        "is_upgrade": body.get("isUpgrade"),
        "delete_reason": _text(body.get("deleteReason")),
        "previous_version": _text(body.get("previousVersion")),
        "new_version": _text(body.get("newVersion")),
    }
    if body["eventType"] in ("Health", "HealthRestored"):
        payload["health_level"] = _text(body.get("level"))
        payload["health_message"] = _text(body.get("message"))
        payload["health_type"] = _text(body.get("type"))
    payload.update(_media(body.get("release")))
    return payload


def _file(payload: dict[str, Any], item: Any) -> None:
    """Add an imported or deleted file's details: relative path, quality, group, languages."""
    if isinstance(item, dict):
        payload["relative_path"] = _text(item.get("relativePath"))
        payload.update(_media(item))


def _sonarr_payloads(body: dict[str, Any]) -> list[dict[str, Any]]:
    series = body.get("series") or {}
    base = _common("sonarr", body, "episode")
    base.update(
        title=series.get("title"),
        year=series.get("year") or None,
        series_id=_id(series.get("id")),
        tvdb_id=_id(series.get("tvdbId")),
        tmdb_id=_id(series.get("tmdbId")),
        imdb_id=_text(series.get("imdbId")),
    )
    files = body.get("episodeFiles")
    if body["eventType"] == "Download" and isinstance(files, list):
        # On Import Complete: one call per download, beside the per-file Download calls
        base["event_type"] = IMPORT_COMPLETE
        base["file_count"] = len(files)
        if len(files) == 1:
            _file(base, files[0])
        else:
            base.update(_shared_media(files))
    else:
        _file(base, body.get("episodeFile"))
    seen: set[tuple[int, int]] = set()
    payloads = []
    for item in body.get("episodes") or []:
        key = (item["seasonNumber"], item["episodeNumber"])
        if key in seen:
            continue
        seen.add(key)
        payloads.append({**base, "season": key[0], "episode": key[1], "episode_id": _id(item.get("id"))})
    return payloads or [base]


def _shared_media(files: Iterable[Any]) -> dict[str, Any]:
    """The quality, release group and languages all ``files`` agree on."""
    medias = [_media(item) for item in files]
    if not medias:
        return {}
    first = medias[0]
    return {key: value for key, value in first.items() if all(m.get(key) == value for m in medias[1:])}


def _radarr_payloads(body: dict[str, Any]) -> list[dict[str, Any]]:
    movie = body.get("movie") or {}
    payload = _common("radarr", body, "movie")
    payload.update(
        title=movie.get("title"),
        year=movie.get("year") or None,
        movie_id=_id(movie.get("id")),
        tmdb_id=_id(movie.get("tmdbId")),
        imdb_id=_text(movie.get("imdbId")),
    )
    _file(payload, body.get("movieFile"))
    return [payload]


def _emit_all(payloads: list[dict[str, Any]]) -> list[str]:
    get_plugin_manager()
    return [
        emit_event("webhook_received", {k: v for k, v in payload.items() if v is not None})
        for payload in payloads
    ]


def _receive(source: str, schema: Any, build: Any) -> Any:
    try:
        body = _body(schema)
    except ValueError as exc:
        logger.info("refused a malformed %s webhook: %s", source, exc.args[0])
        return error_response(400, exc.args[0])
    payloads = build(body)
    try:
        event_ids = _emit_all(payloads)
    except InvalidPayloadError as exc:
        logger.info("refused a %s webhook: %s", source, exc)
        return error_response(400, {exc.key or "body": [exc.reason]})
    event_type = payloads[0]["event_type"]
    logger.info("%s webhook %s: %d event(s) emitted", source, event_type, len(event_ids))
    return {"source": source, "event_type": event_type, "event_ids": event_ids}


_DOC = responses(r400=("Not a Sonarr/Radarr webhook, or a value that may not be forwarded", ErrorSchema))


@arr_webhooks.route("/sonarr", methods=METHODS)
@arr_webhooks.input(SonarrWebhookSchema, validation=False)
@arr_webhooks.output(ArrReceivedSchema)
@arr_webhooks.doc(
    summary="Sonarr's Webhook connection (Grab, Download, Import Complete, Rename, Health, Test, ...)",
    responses=_DOC,
)
def sonarr(json_data: Any = None) -> Any:
    return _receive("sonarr", SonarrWebhookSchema(), _sonarr_payloads)


@arr_webhooks.route("/radarr", methods=METHODS)
@arr_webhooks.input(RadarrWebhookSchema, validation=False)
@arr_webhooks.output(ArrReceivedSchema)
@arr_webhooks.doc(
    summary="Radarr's Webhook connection (Grab, Download, Rename, Health, Test, ...)", responses=_DOC
)
def radarr(json_data: Any = None) -> Any:
    return _receive("radarr", RadarrWebhookSchema(), _radarr_payloads)
