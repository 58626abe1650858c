"""Sending one webhook request and judging its outcome.

The body is a JSON envelope::

    {"id": "<delivery id>", "type": "<event name>", "version": 1,
     "timestamp": "<event time, ISO-8601 UTC>", "data": {...payload...}}

sent with ``Content-Type: application/json``, ``User-Agent: sublarr/<version>``,
``X-Sublarr-Event: <event name>``, the webhook's custom headers, and (when it has a secret)
the Standard Webhooks signature headers ``webhook-id`` (the delivery id, the same on
every attempt), ``webhook-timestamp`` and ``webhook-signature``. Redirects are not followed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from .retry_policy import GONE, is_retryable_status, parse_retry_after
from .signing import signature_headers
from .url_policy import GuardedBackend, UrlPolicy, UrlRefusedError

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


class _RedactUrls(logging.Filter):
    """Shows only scheme, host, port and path of URLs httpx logs: queries and userinfo may hold tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) for a in record.args):
            record.args = tuple(
                str(a.copy_with(query=None, fragment=None, userinfo=b"")) if isinstance(a, httpx.URL) else a
                for a in record.args
            )
        return True


_httpx_logger = logging.getLogger("httpx")
if not any(isinstance(f, _RedactUrls) for f in _httpx_logger.filters):
    _httpx_logger.addFilter(_RedactUrls())


def user_agent() -> str:
    """``sublarr/<version>``."""
    from .. import __version__

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


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every non-trivial secret replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


class WebhookSender:
    """Sends webhook requests over keep-alive HTTP clients, one per thread (no shared pool lock)."""

    def __init__(self, policy: UrlPolicy | None = None, max_connections: int = 16) -> None:
        self.policy = policy or UrlPolicy()
        self.max_connections = max_connections
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        self._lock = threading.Lock()

    @property
    def client(self) -> httpx.Client:
        """This thread's HTTP client."""
        client = getattr(self._local, "client", None)
        if client is None:
            transport = httpx.HTTPTransport(
                limits=httpx.Limits(
                    max_connections=self.max_connections, max_keepalive_connections=self.max_connections
                )
            )
            # Connect only to allowed addresses, checked on the socket actually opened.
            transport._pool._network_backend = GuardedBackend(self.policy)  # type: ignore[attr-defined]
            client = httpx.Client(transport=transport, follow_redirects=False, trust_env=False)
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def close(self) -> None:
        """Close every thread's connections."""
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()

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
    ) -> SendResult:
        """Send ``body`` once; never raises for network trouble, it is in the result."""
        started = time.monotonic()
        request_headers = {k: v for k, v in (headers or {}).items() if k.lower() not in RESERVED_HEADERS}
        request_headers.update(
            {
                "Content-Type": "application/json",
                "User-Agent": user_agent(),
                "X-Sublarr-Event": event_name,
            }
        )
        if secret:
            request_headers.update(signature_headers(secret, msg_id, body))
        hidden = [secret, *(headers or {}).values()]
        try:
            # The host is resolved and checked by GuardedBackend when a connection is opened;
            # kept-alive connections were checked when they were.
            response = self.client.request(
                method.upper(), url, content=body, headers=request_headers, timeout=timeout
            )
        except UrlRefusedError as exc:
            return SendResult(False, None, _ms(started), error=str(exc), retryable=False)
        except httpx.TimeoutException as exc:
            return SendResult(
                False,
                None,
                _ms(started),
                error=redact(f"timed out: {_describe(exc)}", hidden),
                retryable=True,
            )
        except (httpx.TransportError, OSError) as exc:
            return SendResult(
                False,
                None,
                _ms(started),
                error=redact(f"connection failed: {_describe(exc)}", hidden),
                retryable=True,
            )
        duration = _ms(started)
        status = response.status_code
        excerpt = redact(response.text[:RESPONSE_EXCERPT_CHARS], hidden) if response.content else ""
        if 200 <= status <= 299:
            return SendResult(True, status, duration, response_excerpt=excerpt)
        error = f"HTTP {status} {response.reason_phrase}".rstrip()
        if excerpt:
            error += f": {excerpt}"
        return SendResult(
            False,
            status,
            duration,
            error=error,
            retryable=is_retryable_status(status),
            retry_after=parse_retry_after(response.headers.get("retry-after")),
            gone=status == GONE,
            response_excerpt=excerpt,
        )


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
