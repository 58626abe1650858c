"""The blueprint serving the web page's files; see the package docs."""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
from pathlib import Path

from flask import Blueprint, Response, abort, request
from werkzeug.security import safe_join

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGE_PREFIX = "/ui/"
# Route -> the HTML file it serves.
PAGE_ROUTES = {"/": "index.html", "/docs": "docs.html"}

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
# Text is worth compressing; the rest is sent as is.
_COMPRESSIBLE = {".html", ".js", ".css", ".svg"}
_MIN_COMPRESS = 512
# zlib's default: within a few per cent of level 9 here, at a fraction of the CPU for Swagger UI.
GZIP_LEVEL = 6

# Only the page's own files run; Swagger UI sets inline styles and uses data: images.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'; object-src 'none'"
)

web_page = Blueprint("web_page", __name__)


@functools.lru_cache(maxsize=64)
def _encoded(path: str, mtime_ns: int, size: int) -> tuple[bytes, bytes, str]:
    """The file's bytes, their gzip form and an ETag; cached per file version."""
    raw = Path(path).read_bytes()
    packed = gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0)
    etag = hashlib.sha256(raw).hexdigest()[:32]
    return raw, packed, etag


def clear_cache() -> None:
    """Forget the compressed files (tests that change a file in place)."""
    _encoded.cache_clear()


def _send(relative: str) -> Response:
    """The static file ``relative`` (under ``STATIC_DIR``), gzipped when the client accepts it."""
    joined = safe_join(str(STATIC_DIR), relative)
    if joined is None:
        abort(404)
    path = Path(joined)
    if not path.is_file() or path.suffix not in _TYPES:
        abort(404)
    stat = path.stat()
    raw, packed, etag = _encoded(str(path), stat.st_mtime_ns, stat.st_size)
    compress = (
        path.suffix in _COMPRESSIBLE
        and len(raw) >= _MIN_COMPRESS
        and "gzip" in request.headers.get("Accept-Encoding", "")
    )
    response = Response(packed if compress else raw, content_type=_TYPES[path.suffix])
    if compress:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = "no-cache"  # revalidate: an upgrade shows at once
    response.set_etag(etag + ("-gz" if compress else ""))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if path.suffix == ".html":
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Frame-Options"] = "DENY"
    response.make_conditional(request)  # 304 when the ETag matches (changes it in place)
    return response


@web_page.get("/", endpoint="index")
def index() -> Response:
    """The web page."""
    return _send(PAGE_ROUTES["/"])


@web_page.get("/docs", endpoint="docs")
def docs() -> Response:
    """The API explorer (Swagger UI over ``/api/v1/openapi.json``)."""
    return _send(PAGE_ROUTES["/docs"])


@web_page.get(f"{PAGE_PREFIX}<path:filename>", endpoint="asset")
def asset(filename: str) -> Response:
    """One of the page's files (scripts, styles, vendored libraries and their licences)."""
    if filename.endswith(("LICENSE", "NOTICE", "VERSIONS")):
        joined = safe_join(str(STATIC_DIR), filename)
        if joined is None or not Path(joined).is_file():
            abort(404)
        return Response(Path(joined).read_bytes(), content_type="text/plain; charset=utf-8")
    return _send(filename)
