"""Every API error as ``{"error": <code>, "detail": <reason>}`` with a fitting status.

| status | ``error`` | when |
| --- | --- | --- |
| 400 | ``bad_request`` | the body is not JSON (or not text), or a Sonarr/Radarr webhook is malformed |
| 401 | ``unauthorized`` | the API key is missing or wrong |
| 404 | ``not_found`` | no such route, record or event |
| 405 | ``method_not_allowed`` | the route exists, the method does not |
| 409 | ``conflict`` | the request clashes with stored state |
| 413 | ``payload_too_large`` | the body is over ``MAX_CONTENT_LENGTH`` |
| 422 | ``validation_error`` | the body or query breaks its schema or a storage/scoring rule |
| 503 | ``unavailable`` | storage cannot be used now (an event not stored, the database file gone) |

Bad input never surfaces as a 500: ``ValidationError`` and ``InvalidPayloadError`` are
422, ``NotFoundError`` and ``UnknownEventError`` 404. ``StorageError`` (with
``EventNotStoredError``) is 503: nothing the request asked for can be relied on.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from apiflask import APIFlask, HTTPError
from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException

from sublarr.core.errors import (
    ConflictError,
    InvalidPayloadError,
    NotFoundError,
    StorageError,
    UnknownEventError,
    ValidationError,
)

logger = logging.getLogger(__name__)

ERROR_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    500: "internal_error",
    503: "unavailable",
}

RETRY_AFTER_SECONDS = 30  # what a 503 for unusable storage suggests to wait

JSON_METHODS = frozenset({"POST", "PUT", "PATCH"})


__all__ = ["ConflictError", "error_response", "register_error_handlers"]


def error_response(status: int, detail: Any, headers: Any = None) -> Response:
    """A JSON error response ``{"error", "detail"}`` with ``status``."""
    response = jsonify({"error": ERROR_CODES.get(status, "error"), "detail": detail})
    response.status_code = status
    if headers:
        for name, value in dict(headers).items():
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
    return response


def _http_error(error: HTTPError) -> Response:
    detail = error.detail if error.detail not in (None, {}, "") else error.message
    return error_response(error.status_code, detail, error.headers)


def _werkzeug_error(error: HTTPException) -> Response:
    data = getattr(error, "data", None)
    detail: Any = None
    if isinstance(data, dict):
        detail = data.get("messages")
    if not detail:
        detail = error.description or error.name
    return error_response(error.code or 500, detail, error.get_headers())


def _validation_error(error: ValidationError) -> Response:
    field = getattr(error, "field", None)
    return error_response(422, {field: [error.reason]} if field else error.reason)


def _invalid_payload(error: InvalidPayloadError) -> Response:
    detail: Any = {error.key: [error.reason]} if error.key else error.reason
    return error_response(422, detail)


def _not_found(error: LookupError) -> Response:
    return error_response(404, str(error))


def _conflict(error: ConflictError) -> Response:
    return error_response(409, str(error))


def _unavailable(error: StorageError) -> Response:
    logger.warning("%s %s answered 503: %s", request.method, request.path, error)
    return error_response(503, str(error), {"Retry-After": str(RETRY_AFTER_SECONDS)})


def _internal(error: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal error; see the server log")


def _require_json_body() -> Response | None:
    """Refuse a body that is not JSON on methods that take one (400, before validation)."""
    if request.method not in JSON_METHODS:
        return None
    if not request.content_length and not request.headers.get("Transfer-Encoding"):
        return None
    if not request.is_json:
        return error_response(400, "the body must be JSON (Content-Type: application/json)")
    try:
        parsed = request.get_json(silent=True)
    except RecursionError:
        return error_response(400, "the body is nested too deeply")
    if parsed is None and request.get_data(cache=True).strip() not in (b"null",):
        return error_response(400, "the body is not valid JSON")
    try:  # "\ud800" is valid JSON but no text: it would fail deep in storage or the filesystem
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return error_response(400, "the body holds an unpaired UTF-16 surrogate (\\ud800-\\udfff)")
    return None


def register_error_handlers(app: APIFlask) -> None:
    """Make every error of ``app`` answer ``{"error", "detail"}``."""
    app.error_processor(_http_error)
    app.register_error_handler(HTTPException, _werkzeug_error)
    app.register_error_handler(ValidationError, _validation_error)
    app.register_error_handler(InvalidPayloadError, _invalid_payload)
    app.register_error_handler(UnknownEventError, _not_found)
    app.register_error_handler(NotFoundError, _not_found)
    app.register_error_handler(ConflictError, _conflict)
    app.register_error_handler(StorageError, _unavailable)
    app.register_error_handler(Exception, _internal)
    app.before_request(_require_json_body)
