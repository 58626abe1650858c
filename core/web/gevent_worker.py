"""The Gunicorn worker of ``sublarr serve``: Gunicorn's gevent worker, refusing connections past its cap.

It monkey-patches the standard library like Gunicorn's, except ``subprocess``, ``os`` and
``signal``: scripts run on the delivery workers, real OS threads
(``sublarr.core.delivery.worker_pool``), where the standard ``subprocess`` blocks just that
thread. gevent's cannot run there (its child watchers need the main thread's loop), and
with ``os``/``signal`` patched gevent's SIGCHLD handler would reap the script helper before
the standard ``subprocess`` could wait for it.

Gunicorn's own gevent worker stops accepting when ``worker_connections`` are held, so new
clients wait unanswered in the listen backlog. This one keeps accepting and answers a
connection past the cap with a 503 (``{"error": "unavailable", ...}``) and closes it, so a
client learns at once that the server is full.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import warnings
from functools import partial
from typing import Any

import gevent
from gevent import monkey, socket
from gevent.pool import Pool
from gevent.server import StreamServer
from gunicorn.workers.ggevent import GeventWorker

logger = logging.getLogger(__name__)

REFUSAL_LOG_INTERVAL = 10.0
REFUSAL_SECONDS = 1.0
_BODY = json.dumps(
    {
        "error": "unavailable",
        "detail": "the server holds as many connections as it may (SUBLARR_MAX_CONNECTIONS)",
    }
).encode()
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
    + f"Content-Length: {len(_BODY)}\r\nRetry-After: 1\r\n\r\n".encode()
    + _BODY
)


def _answer_503(client: Any) -> None:
    """Read what the client sent (so closing does not reset the connection), answer 503, close."""
    try:
        with gevent.Timeout(REFUSAL_SECONDS):
            client.settimeout(REFUSAL_SECONDS)
            with contextlib.suppress(OSError):
                client.recv(8192)
            client.sendall(REFUSAL)
            client.shutdown(socket.SHUT_WR)
            with contextlib.suppress(OSError):
                client.recv(8192)  # until the client closes
    except (OSError, gevent.Timeout):
        pass
    finally:
        client.close()


class RefusingPool(Pool):
    """A greenlet pool of ``size`` that refuses (503, close) a connection instead of waiting for room."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.refused = 0
        self._logged_at = 0.0

    def full(self) -> bool:
        return False  # the server keeps accepting; spawn() refuses

    def spawn(self, *args: Any, **kwargs: Any) -> Any:
        if self.free_count() <= 0:
            # StreamServer calls spawn(_handle_and_close_when_done, handle, close, (client, address)).
            accepted = args[3] if len(args) > 3 and isinstance(args[3], tuple) else ()
            self._refuse(accepted[0] if accepted else None)
            return None
        return super().spawn(*args, **kwargs)

    def _refuse(self, client: Any) -> None:
        self.refused += 1
        if client is not None:
            gevent.spawn(_answer_503, client)  # outside the pool; ends within REFUSAL_SECONDS
        now = time.monotonic()
        if now - self._logged_at >= REFUSAL_LOG_INTERVAL:
            self._logged_at = now
            logger.warning(
                "connection limit (%d) reached: refused new connections with 503 (%d so far)",
                self.size,
                self.refused,
            )


class SublarrGeventWorker(GeventWorker):
    """Gunicorn's gevent worker with a ``RefusingPool`` per listener, ``subprocess`` left unpatched."""

    def patch(self) -> None:
        with warnings.catch_warnings():
            # The master imported ssl (requests, urllib3) before forking this worker, as with
            # Gunicorn's own gevent worker; nothing has used it yet.
            warnings.simplefilter("ignore", monkey.MonkeyPatchWarning)
            monkey.patch_all(subprocess=False, os=False, signal=False)
        listeners: list[Any] = list(self.sockets)  # Gunicorn's socket wrappers
        self.sockets = [
            socket.socket(s.FAMILY, socket.SOCK_STREAM, fileno=s.sock.detach()) for s in listeners
        ]

    def run(self) -> None:
        servers = []
        for sock in self.sockets:
            sock.setblocking(True)
            server = StreamServer(
                sock, handle=partial(self.handle, sock), spawn=RefusingPool(self.worker_connections)
            )
            server.start()
            servers.append(server)
        while self.alive:
            self.notify()
            gevent.sleep(1.0)
        for server in servers:
            server.close()
