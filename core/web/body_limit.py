"""``BodyLimitMiddleware``: a request body over the limit is answered 413, however it is sent.

Flask's ``MAX_CONTENT_LENGTH`` only holds for bodies with a ``Content-Length``; a chunked
body (``Transfer-Encoding: chunked``, no length) was read cut short and then reported as
"not valid JSON". This WSGI middleware answers every body over the limit with
``413 {"error": "payload_too_large", "detail": ...}`` (the API's error shape) before the
app sees it:

* with a ``Content-Length`` over the limit, at once, without reading the body;
* chunked, after reading at most ``limit + 1`` bytes. A chunked body within the limit is
  handed on as an ordinary one (read into memory, ``Content-Length`` set), so the app reads
  it like any other.

The server must de-chunk the body (Gunicorn, behind ``sublarr serve``, does); what is left
unread of a refused body is the server's to drain or to close the connection on (Gunicorn
drains a bounded amount, then closes).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

logger = logging.getLogger(__name__)

_READ_CHUNK = 65536


def _content_length(environ: dict[str, Any]) -> int | None:
    value = str(environ.get("CONTENT_LENGTH") or "").strip()
    if not value.isdigit():
        return None
    return int(value)


def _is_chunked(environ: dict[str, Any]) -> bool:
    return "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()


def _read_at_most(stream: Any, size: int) -> bytes:
    """Up to ``size`` bytes of ``stream`` (fewer when it ends first)."""
    parts: list[bytes] = []
    left = size
    while left > 0:
        chunk = stream.read(min(left, _READ_CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


class BodyLimitMiddleware:
    """WSGI middleware answering 413 to a request body over ``limit()`` bytes (see module docs)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], limit: Callable[[], int | None]) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        limit = self.limit()
        if limit is None:
            return self.app(environ, start_response)
        length = _content_length(environ)
        if length is not None and not _is_chunked(environ):
            if length > limit:
                return _too_large(start_response, limit)
            return self.app(environ, start_response)
        if _is_chunked(environ):
            body = _read_at_most(environ["wsgi.input"], limit + 1)
            if len(body) > limit:
                return _too_large(start_response, limit)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)


def _too_large(start_response: Callable[..., Any], limit: int) -> list[bytes]:
    body = json.dumps(
        {"error": "payload_too_large", "detail": f"the request body is larger than {limit} bytes"}
    ).encode()
    start_response(
        "413 REQUEST ENTITY TOO LARGE",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]
