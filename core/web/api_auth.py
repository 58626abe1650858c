"""The API key: made on first start, kept owner-only in the data dir, required on every route.

Clients send it as the ``X-Api-Key`` header or the ``apikey`` query parameter, as Sonarr
and Radarr do, or as the password of HTTP Basic credentials (what the *arr apps' webhook
form sends from its username/password fields). ``/api/v1/health`` is the only API path open
without it (the web page's static files, ``/``, ``/docs`` and ``/ui/...``, hold no data and
are open too). A request with a missing or wrong key gets a bare 401 that says nothing else
about the server. Socket.IO (``/socket.io/``) passes this middleware: its connect handler
checks the key, which Socket.IO clients send in the ``auth`` payload (``{"apikey": key}``
or ``{"token": key}``), the header or the query, and refuses the connection without it; an
Engine.IO session that has not connected gets nothing but that refusal. Keys are compared
in constant time.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import os
import secrets
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from sublarr.core.errors import StorageError

logger = logging.getLogger(__name__)

API_KEY_FILENAME = "api_key"
API_KEY_HEADER = "X-Api-Key"
API_KEY_QUERY = "apikey"
OPEN_PATHS = frozenset({"/api/v1/health"})
SOCKETIO_PATH = "/socket.io/"
SOCKETIO_AUTH_FIELDS = (API_KEY_QUERY, "token")

_UNAUTHORIZED = json.dumps(
    {"error": "unauthorized", "detail": "a valid API key is required (X-Api-Key header or apikey)"}
).encode()


@dataclass(frozen=True)
class ApiKey:
    """The server's key and where it came from: ``generated`` is true on the run that made it."""

    value: str
    path: Path | None
    generated: bool = False


def _write_key(path: Path, value: str) -> bool:
    """Create ``path`` with mode 0600 holding ``value``; False when it already exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return True


def load_or_create_api_key(data_dir: Path, configured: str | None = None) -> ApiKey:
    """The API key: ``configured`` when given, else ``<data_dir>/api_key``, made on first use.

    The data dir is created owner-only (0700) and the key file 0600; a key file readable by
    others is narrowed to 0600 with a warning. Raises ``StorageError`` when the data dir or
    the key file cannot be used.
    """
    if configured:
        return ApiKey(configured, None)
    from sublarr.core.db.engine import ensure_private_dir

    path = ensure_private_dir(Path(data_dir)) / API_KEY_FILENAME
    try:
        generated = _write_key(path, secrets.token_hex(16))
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            logger.warning("API key file %s was readable by others (mode %o); narrowed to 0600", path, mode)
            path.chmod(0o600)
        value = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise StorageError(f"cannot use the API key file {path}: {reason}") from None
    if not value:
        raise StorageError(f"API key file {path} is empty; delete it to have a new key made")
    return ApiKey(value, path, generated)


def key_matches(expected: str, given: str | None) -> bool:
    """Whether ``given`` is the key ``expected``, compared in constant time."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "surrogatepass"))


def _basic_password(authorization: Any) -> str | None:
    """The password of ``Authorization: Basic <base64 user:password>``, else None (never logged)."""
    if not isinstance(authorization, str):
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    _, sep, password = decoded.partition(":")
    return password if sep and password else None


def key_from_environ(environ: Mapping[str, Any]) -> str | None:
    """The key a WSGI request carries: the ``X-Api-Key`` header, the ``apikey`` query
    parameter, else the password of HTTP Basic credentials (the *arr webhook form's
    username/password fields; the username is not checked)."""
    header = environ.get("HTTP_X_API_KEY")
    if header:
        return str(header)
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    values = query.get(API_KEY_QUERY)
    if values:
        return str(values[0])
    return _basic_password(environ.get("HTTP_AUTHORIZATION"))


def key_from_socketio_auth(auth: Any, environ: Mapping[str, Any]) -> str | None:
    """The key of a Socket.IO connect: the ``auth`` payload's ``apikey`` or ``token``, else the request's.

    ``environ`` is the WSGI environ of the Engine.IO handshake (header or query).
    """
    if isinstance(auth, Mapping):
        for name in SOCKETIO_AUTH_FIELDS:
            value = auth.get(name)
            if isinstance(value, str) and value:
                return value
    return key_from_environ(environ)


class ApiKeyMiddleware:
    """WSGI middleware answering 401 to every request without the key, except ``open_paths``.

    ``page_paths`` and the files under ``page_prefix`` are the web page's (static files, no
    data): open too, to GET and HEAD only, and only for paths without ``.``/``..``/empty segments.

    It wraps the Socket.IO middleware too. Requests under ``socketio_path`` pass: Socket.IO
    clients send the key in the connect packet's ``auth`` payload, which only the connect
    handler sees (``app_factory``'s guard refuses a connect without the key). A Socket.IO
    request that carries a wrong key in its header or query is refused here at once.
    """

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        key: Callable[[], str],
        open_paths: Iterable[str] = OPEN_PATHS,
        socketio_path: str | None = SOCKETIO_PATH,
        page_paths: Iterable[str] = (),
        page_prefix: str | None = None,
    ) -> None:
        self.app = app
        self.key = key
        self.open_paths = frozenset(open_paths)
        self.socketio_path = socketio_path
        self.page_paths = frozenset(p.rstrip("/") for p in page_paths)
        self.page_prefix = page_prefix

    def _allowed(self, environ: dict[str, Any]) -> bool:
        path = environ.get("PATH_INFO", "") or "/"
        if path.rstrip("/") in self.open_paths:
            return True
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD") and (
            path.rstrip("/") in self.page_paths or self._page_file(path)
        ):
            return True
        given = key_from_environ(environ)
        if self.socketio_path is not None and path.startswith(self.socketio_path) and not given:
            return True  # the connect handler checks the auth payload
        return key_matches(self.key(), given)

    def _page_file(self, path: str) -> bool:
        """Whether ``path`` names one of the web page's files (no ``..`` or empty segment)."""
        if self.page_prefix is None or not path.startswith(self.page_prefix):
            return False
        segments = path[len(self.page_prefix) :].split("/")
        return all(segment not in ("", ".", "..") and "\\" not in segment for segment in segments)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self._allowed(environ):
            return self.app(environ, start_response)
        start_response(
            "401 UNAUTHORIZED",
            [("Content-Type", "application/json"), ("Content-Length", str(len(_UNAUTHORIZED)))],
        )
        return [_UNAUTHORIZED]
