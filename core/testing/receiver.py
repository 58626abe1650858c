"""A real webhook receiver for tests and benchmarks: an HTTP server on 127.0.0.1 in a thread.

It records every request, answers with scripted statuses and delays, and checks Standard
Webhooks signatures when given the secret. The ``webhook_receiver`` pytest fixture
(``sublarr.core.testing.pytest_plugin``) starts one per test::

    def test_delivery(webhook_receiver):
        webhook_receiver.script(503, 200)            # first request 503, then 200
        webhook_receiver.respond(delay=0.5)          # every later one after 0.5 s
        ...
        [request] = webhook_receiver.wait_for(1)
        assert request.json["type"] == "subtitle_downloaded"
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sublarr.core.delivery.signing import SignatureError, verify


@dataclass(frozen=True)
class Reply:
    """One scripted answer: status, seconds to wait first, extra headers, body."""

    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class ReceivedRequest:
    """One request the receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float
    status: int
    verified: bool | None = None
    verify_error: str = ""

    @property
    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str | None:
        """The ``webhook-id`` header."""
        return self.headers.get("webhook-id")


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up (a killed sender, a timeout) are normal here, not errors to print."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


class WebhookReceiver:
    """A threaded HTTP server recording requests; see the module docs."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.requests: list[ReceivedRequest] = []
        self.secret: str | None = None
        self._default = Reply()
        self._script: deque[Reply] = deque()
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._connections: set[Any] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
                return

            def setup(self) -> None:
                super().setup()
                with receiver._cond:
                    receiver._connections.add(self.connection)

            def finish(self) -> None:
                with receiver._cond:
                    receiver._connections.discard(self.connection)
                super().finish()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                reply = receiver._record(self.command, self.path, dict(self.headers.items()), body)
                if reply.delay and receiver._stopping.wait(reply.delay):
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.body:
                    self.wfile.write(reply.body)

            do_POST = do_PUT = do_GET = do_PATCH = do_DELETE = _handle  # noqa: N815 - http.server's names

        self.server = _QuietServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), name="webhook-receiver", daemon=True
        )

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> WebhookReceiver:
        """Start serving; return self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close open connections; delayed answers are abandoned. Idempotent."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._thread.is_alive():
            self.server.shutdown()
        self.server.server_close()
        with self._cond:
            open_connections = list(self._connections)
        for connection in open_connections:  # kept-alive client connections end too
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>/hook``."""
        return self.url_for("/hook")

    def url_for(self, path: str) -> str:
        """The URL of ``path`` on this receiver."""
        host, port = self.server.socket.getsockname()[:2]
        return f"http://{host}:{port}{path}"

    # -- scripting ------------------------------------------------------------------------

    def respond(
        self, status: int = 200, delay: float = 0.0, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> None:
        """The answer to every request once the script is used up."""
        self._default = Reply(status, delay, dict(headers or {}), body)

    def script(self, *replies: int | Reply) -> None:
        """Answers for the next requests, in order (an int is a status)."""
        with self._cond:
            self._script.extend(r if isinstance(r, Reply) else Reply(status=r) for r in replies)

    def _record(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        lowered = {k.lower(): v for k, v in headers.items()}
        with self._cond:
            reply = self._script.popleft() if self._script else self._default
            request = ReceivedRequest(method, path, lowered, body, time.time(), reply.status)
            if self.secret:
                try:
                    verify(self.secret, lowered, body)
                    request.verified = True
                except SignatureError as exc:
                    request.verified, request.verify_error = False, str(exc)
            self.requests.append(request)
            self._cond.notify_all()
        return reply

    # -- inspecting -----------------------------------------------------------------------

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedRequest]:
        """Wait until at least ``count`` requests arrived; return them all (AssertionError on timeout)."""
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.requests) >= count, timeout)
            got = list(self.requests)
        assert ok, f"waited {timeout}s for {count} request(s), got {len(got)}"
        return got

    def ids(self) -> set[str]:
        """The distinct ``webhook-id`` values received."""
        with self._cond:
            return {r.webhook_id for r in self.requests if r.webhook_id}

    def clear(self) -> None:
        """Forget recorded requests and scripted replies."""
        with self._cond:
            self.requests.clear()
            self._script.clear()
