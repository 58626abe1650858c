"""Sending one webhook request and judging its outcome.

The body is a JSON envelope::

    {"id": "<delivery id>", "type": "<event name>", "version": 1,
     "timestamp": "<event time, ISO-8601 UTC>", "data": {...payload...}}

sent with ``Content-Type: application/json``, ``User-Agent: sublarr/<version>``,
``X-Sublarr-Event: <event name>``, the webhook's custom headers, and (when it has a secret)
the Standard Webhooks signature headers ``webhook-id`` (the delivery id, the same on
every attempt), ``webhook-timestamp`` and ``webhook-signature``. Redirects are not followed.

Requests go over ``http.client`` keep-alive connections, one set per worker thread, opened
only to addresses the URL policy allows.

Secrets of a target never end up in what is stored or shown: ``target_secrets`` lists every
one (URL password, the Basic credential built from it, custom header values, the signing
secret, query values) in the spellings a receiver or an error may echo them, and
``redact_target_secrets`` replaces each in any text with ``***``; the errors and response
excerpts of ``send`` are redacted so. ``mask_url`` gives a URL fit to show: its password
(or a lone user name, then the credential) and the values of credential-named query
parameters (``CREDENTIAL_QUERY_NAMES``, or names ending ``_token``, ``_key``, ``_secret``,
``_password``; ``-`` counts as ``_``, any case) become ``****``.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

from sublarr.core.delivery.retry_policy import GONE, is_retryable_status, parse_retry_after
from sublarr.core.delivery.signing import signature_headers
from sublarr.core.delivery.url_policy import (
    GuardedHTTPConnection,
    GuardedHTTPSConnection,
    UrlPolicy,
    UrlRefusedError,
)

logger = logging.getLogger(__name__)

ENVELOPE_VERSION = 1
RESPONSE_EXCERPT_CHARS = 512
ALLOWED_METHODS = ("POST", "PUT")
# Headers sublarr sets itself; custom headers cannot replace them.
RESERVED_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "host",
        "user-agent",
        "x-sublarr-event",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "transfer-encoding",
        "connection",
    }
)


def user_agent() -> str:
    """``sublarr/<version>``."""
    from sublarr.core import __version__

    return f"sublarr/{__version__}"


def build_envelope(delivery_id: str, event_name: str, timestamp: str, data: Mapping[str, Any]) -> bytes:
    """The JSON body of a webhook request."""
    envelope = {
        "id": delivery_id,
        "type": event_name,
        "version": ENVELOPE_VERSION,
        "timestamp": timestamp,
        "data": dict(data),
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass
class SendResult:
    """The outcome of one HTTP attempt."""

    success: bool
    status_code: int | None
    duration_ms: float
    error: str = ""
    retryable: bool = False
    retry_after: float | None = None
    gone: bool = False
    response_excerpt: str = ""


REDACTED = "***"
URL_MASK = "****"
# Secrets shorter than this are left in texts: replacing them would garble the text.
MIN_REDACTED_CHARS = 4
CREDENTIAL_QUERY_NAMES = frozenset(
    {
        "token",
        "apikey",
        "api_key",
        "key",
        "password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "access_token",
        "auth",
        "sig",
        "signature",
    }
)
_CREDENTIAL_SUFFIXES = ("_token", "_key", "_secret", "_password")


def is_credential_name(name: str) -> bool:
    """Whether a query parameter called ``name`` holds a credential (see the module docs)."""
    normal = name.strip().lower().replace("-", "_")
    return normal in CREDENTIAL_QUERY_NAMES or normal.endswith(_CREDENTIAL_SUFFIXES)


def _query_items(query: str) -> list[tuple[str, str, str]]:
    """``(name, "=", value)`` of each item of ``query`` as written (not decoded); ``""`` if empty."""
    return [item.partition("=") for item in query.split("&")] if query else []


def _spellings(value: str) -> list[str]:
    """``value`` as written and percent-/plus-decoded."""
    return [value, unquote(value), unquote_plus(value)]


def basic_credential(username: str, password: str) -> str:
    """The ``Authorization: Basic`` credential (base64 of ``user:pass``) for a URL's user info."""
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def target_secrets(url: str = "", secret: str = "", headers: Mapping[str, str] | None = None) -> list[str]:
    """Every secret of a webhook target, in each spelling it may be echoed in; longest first.

    The URL's password (or its user name when there is no password) as written and decoded,
    the Basic credential ``send`` builds from them (padded and not), every custom header
    value (and its last word, the token of ``Bearer <token>``), the signing secret (with
    and without ``whsec_``), and every query value; ``/`` also as ``\\/`` (escaped JSON).
    """
    found: list[str] = []
    try:
        parts = urlsplit(url or "")
        username, password = parts.username, parts.password
    except ValueError:
        parts, username, password = None, None, None
    if parts is not None:
        if username is not None:
            found.extend(_spellings(password if password is not None else username))
            credential = basic_credential(unquote(username), unquote(password or ""))
            found.extend([credential, credential.rstrip("=")])
        for _, _, value in _query_items(parts.query):
            found.extend(_spellings(value))
    for value in (headers or {}).values():
        words = str(value).split()
        found.append(str(value))
        if len(words) > 1:
            found.append(words[-1])
    if secret:
        found.extend([secret, secret.removeprefix("whsec_")])
    found.extend([s.replace("/", "\\/") for s in found if "/" in s])  # as JSON may escape it
    unique = {s for s in found if len(s) >= MIN_REDACTED_CHARS}
    return sorted(unique, key=lambda s: (-len(s), s))


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret of at least ``MIN_REDACTED_CHARS`` replaced by ``***``."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        if len(secret) >= MIN_REDACTED_CHARS:
            text = text.replace(secret, REDACTED)
    return text


def redact_target_secrets(
    text: str, *, url: str = "", secret: str = "", headers: Mapping[str, str] | None = None
) -> str:
    """``text`` with every secret of the webhook target (``target_secrets``) replaced by ``***``."""
    return redact(text, target_secrets(url, secret, headers))


def mask_url(url: str) -> str:
    """``url`` fit to show: its password (or lone user name) and credential query values ``****``."""
    try:
        parts = urlsplit(url)
        username, password = parts.username, parts.password
    except ValueError:
        return url
    netloc = parts.netloc
    if username is not None:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        netloc = f"{user}:{URL_MASK}@{hostport}" if password is not None else f"{URL_MASK}@{hostport}"
    query = "&".join(
        f"{name}{eq}{URL_MASK if value and is_credential_name(unquote_plus(name)) else value}"
        for name, eq, value in _query_items(parts.query)
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


RESPONSE_READ_LIMIT = 65536


class WebhookSender:
    """Sends webhook requests over keep-alive connections, one set per thread (nothing shared)."""

    def __init__(self, policy: UrlPolicy | None = None, max_connections: int = 16) -> None:
        self.policy = policy or UrlPolicy()
        self.max_connections = max_connections
        self._local = threading.local()
        self._all: list[dict[tuple[str, str, int], http.client.HTTPConnection]] = []
        self._lock = threading.Lock()

    def _connections(self) -> dict[tuple[str, str, int], http.client.HTTPConnection]:
        conns = getattr(self._local, "conns", None)
        if conns is None:
            conns = self._local.conns = {}
            with self._lock:
                self._all.append(conns)
        return conns

    def _connection(self, scheme: str, host: str, port: int, timeout: float) -> http.client.HTTPConnection:
        conns = self._connections()
        key = (scheme, host, port)
        conn = conns.get(key)
        if conn is None:
            if len(conns) >= self.max_connections:  # keep the per-thread set small
                _, oldest = next(iter(conns.items()))
                oldest.close()
                del conns[next(iter(conns))]
            cls = GuardedHTTPSConnection if scheme == "https" else GuardedHTTPConnection
            conn = conns[key] = cls(host, port, timeout, self.policy)
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn

    def close(self) -> None:
        """Close every thread's connections."""
        with self._lock:
            sets, self._all = self._all, []
        for conns in sets:
            for conn in list(conns.values()):
                conn.close()
            conns.clear()

    def send(
        self,
        *,
        url: str,
        body: bytes,
        event_name: str,
        msg_id: str,
        secret: str = "",
        method: str = "POST",
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        content_type: str = "application/json",
    ) -> SendResult:
        """Send ``body`` once; never raises for network trouble, it is in the result."""
        started = time.monotonic()
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request_headers = {k: v for k, v in (headers or {}).items() if k.lower() not in RESERVED_HEADERS}
        if parts.username is not None and not any(k.lower() == "authorization" for k in request_headers):
            credential = basic_credential(unquote(parts.username), unquote(parts.password or ""))
            request_headers["Authorization"] = "Basic " + credential
        request_headers.update(
            {
                "Content-Type": content_type,
                "User-Agent": user_agent(),
                "X-Sublarr-Event": event_name,
            }
        )
        if secret:
            request_headers.update(signature_headers(secret, msg_id, body))
        hidden = target_secrets(url, secret, headers)
        if scheme not in ("http", "https") or not host:
            return SendResult(False, None, _ms(started), error=f"not an http(s) URL with a host: {scheme}://")
        for tries_left in (1, 0):
            conn = self._connection(scheme, host, port, timeout)
            reused = conn.sock is not None
            try:
                conn.request(method.upper(), target, body=body, headers=request_headers)
                response = conn.getresponse()
                data = response.read(RESPONSE_READ_LIMIT)
                if not response.isclosed():
                    conn.close()  # a body too large to drain: do not reuse the connection
                break
            except UrlRefusedError as exc:
                conn.close()
                return SendResult(False, None, _ms(started), error=str(exc), retryable=False)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                conn.close()
                if reused and tries_left:
                    continue  # the receiver closed an idle kept-alive connection: once more, fresh
                return self._failed("connection failed", exc, started, hidden)
            except TimeoutError as exc:
                conn.close()
                return self._failed("timed out", exc, started, hidden)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                return self._failed("connection failed", exc, started, hidden)
            except ValueError as exc:  # a header or URL http.client cannot encode: retrying won't help
                conn.close()
                return SendResult(
                    False, None, _ms(started), error=redact(f"invalid request: {_describe(exc)}", hidden)
                )
        duration = _ms(started)
        status = response.status
        # Redacted before it is cut, so a secret across the cut cannot leave a piece behind.
        excerpt = redact(data.decode("utf-8", "replace"), hidden)[:RESPONSE_EXCERPT_CHARS] if data else ""
        if 200 <= status <= 299:
            return SendResult(True, status, duration, response_excerpt=excerpt)
        error = f"HTTP {status} {response.reason}".rstrip()
        if excerpt:
            error += f": {excerpt}"
        return SendResult(
            False,
            status,
            duration,
            error=error,
            retryable=is_retryable_status(status),
            retry_after=parse_retry_after(response.getheader("retry-after")),
            gone=status == GONE,
            response_excerpt=excerpt,
        )

    @staticmethod
    def _failed(what: str, exc: BaseException, started: float, hidden: list[str]) -> SendResult:
        return SendResult(
            False, None, _ms(started), error=redact(f"{what}: {_describe(exc)}", hidden), retryable=True
        )


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
