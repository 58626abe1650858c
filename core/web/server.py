"""The production server behind ``sublarr serve``: Gunicorn, one gthread worker, everything in it.

Why Gunicorn: it is the most widely deployed WSGI server, and Flask-SocketIO supports its
``gthread`` worker in threading mode with simple-websocket for real WebSocket transport -
with exactly ONE worker process, because Socket.IO sessions live in that process's
memory. The worker runs the REST API, Socket.IO and the hook/webhook delivery workers
(started in ``post_worker_init``). Werkzeug's development server is never used.

Shutdown: Ctrl-C (SIGINT) or SIGTERM stops accepting requests, disconnects Socket.IO
clients, then drains the delivery workers (running deliveries finish, up to
``SUBLARR_DELIVERY_SHUTDOWN_TIMEOUT``; queued ones stay queued in the database for the next
start) before the process exits. ``graceful_timeout`` leaves room for that drain.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

from sublarr.core import __version__
from sublarr.core.log_format import gunicorn_logconfig, log_uncaught_exceptions
from sublarr.core.settings import FLASK_SETTINGS_KEY, Settings

logger = logging.getLogger(__name__)

POOL_KEY = "sublarr.delivery_pool"
EXIT_GRACE_SECONDS = 3.0
DISCONNECT_WAIT_SECONDS = 2.0
SHUTDOWN_MARGIN_SECONDS = 5.0


def start_background(app: Any) -> None:
    """Start the hook/webhook delivery workers and report them in ``/api/v1/health``."""
    from sublarr.core.delivery.worker_pool import start_pool

    pool = start_pool(app.extensions[FLASK_SETTINGS_KEY])
    app.extensions[POOL_KEY] = pool
    app.extensions.setdefault("sublarr.health_checks", {})["delivery"] = lambda: (
        "running" if pool.started else "stopped"
    )


def stop_background(app: Any) -> None:
    """Disconnect Socket.IO clients, then stop the delivery workers, letting running work finish."""
    from sublarr.core.delivery.worker_pool import stop_pool

    socketio = app.extensions.get("socketio")
    if socketio is not None:
        # Every client at once, so their request threads end; bounded, never blocking the drain.
        closer = threading.Thread(target=_disconnect_all, args=(socketio,), daemon=True)
        closer.start()
        closer.join(DISCONNECT_WAIT_SECONDS)
    if app.extensions.pop(POOL_KEY, None) is not None:
        logger.info("draining delivery workers")
        finished = stop_pool()
        logger.info("delivery workers stopped%s", "" if finished else " (some work left to its lease)")


def _disconnect_all(socketio: Any) -> None:
    try:
        socketio.server.eio.disconnect()
    except Exception:  # shutting down regardless
        logger.exception("disconnecting Socket.IO clients failed")


def banner(settings: Settings, host: str, port: int, key: Any, database: str) -> str:
    """What ``sublarr serve`` prints once it listens: URLs, where data lives, the key once."""
    shown_host = f"[{host}]" if ":" in host else host
    base = f"http://{shown_host}:{port}"
    lines = [
        f"sublarr {__version__} listening on {base}",
        f"  REST API   {base}/api/v1   (OpenAPI: {base}/api/v1/openapi.json)",
        f"  Socket.IO  {base}/socket.io/   (send the API key too)",
        f"  data       {settings.data_dir}",
        f"  database   {database}",
    ]
    if key.generated:
        lines.append(f"  API key    {key.value}")
        lines.append(f"             new; shown this once, kept in {key.path} (mode 0600)")
        lines.append(f"  open       {base}/api/v1/openapi.json?apikey={key.value}")
    elif key.path is not None:
        lines.append(f"  API key    in {key.path}")
    else:
        lines.append("  API key    from SUBLARR_API_KEY")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


class SublarrServer(BaseApplication):
    """Gunicorn run programmatically: ``SublarrServer(settings, on_ready).run()``.

    The app is ``create_app(settings=settings)``: the server uses exactly the settings it
    was given. ``on_ready(host, port)`` is called in the master once the socket is bound.
    Gunicorn logs through ``sublarr.core.log_format`` at ``settings.log_level`` (default
    ``info``), in the same format as sublarr's own lines.
    """

    def __init__(self, settings: Settings, on_ready: Callable[[str, int], None] | None = None) -> None:
        self.settings = settings
        self.on_ready = on_ready
        super().__init__()

    def load_config(self) -> None:
        settings = self.settings
        host = settings.host
        bind = f"[{host}]:{settings.port}" if ":" in host else f"{host}:{settings.port}"
        options: dict[str, Any] = {
            "bind": [bind],
            "workers": 1,  # Socket.IO sessions live in one process
            "worker_class": "gthread",
            "threads": settings.server_threads,
            "timeout": 0,  # WebSocket requests last as long as the client stays
            "graceful_timeout": math.ceil(
                getattr(settings, "delivery_shutdown_timeout", 25.0) + SHUTDOWN_MARGIN_SECONDS
            ),
            "keepalive": 5,
            "control_socket_disable": True,
            "proc_name": "sublarr",
            "accesslog": None,
            "errorlog": "-",
            "loglevel": settings.effective_log_level("info"),
            "logconfig_dict": gunicorn_logconfig(settings.effective_log_level("info")),
            "when_ready": self._when_ready,
            "post_worker_init": self._post_worker_init,
            "worker_exit": self._worker_exit,
        }
        for key, value in options.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from sublarr.core.web.app_factory import create_app

        self.application = create_app(settings=self.settings)
        return self.application

    # -- Gunicorn hooks ---------------------------------------------------------------

    def _when_ready(self, arbiter: Any) -> None:
        if self.on_ready is None:
            return
        for listener in arbiter.LISTENERS:
            address = listener.sock.getsockname()
            self.on_ready(str(address[0]), int(address[1]))
            break

    def _post_worker_init(self, worker: Any) -> None:
        start_background(worker.wsgi)

    def _worker_exit(self, arbiter: Any, worker: Any) -> None:
        self._shutdown(worker)
        # Deliveries are drained and the database closed; idle request threads (a WebSocket
        # client that has not hung up yet) must not keep the process alive.
        timer = threading.Timer(EXIT_GRACE_SECONDS, _exit_now)
        timer.daemon = True
        timer.start()

    def _shutdown(self, worker: Any) -> None:
        app = getattr(worker, "wsgi", None)
        if app is None or getattr(app, "extensions", None) is None:
            return
        if app.extensions.get("sublarr.stopped"):
            return
        app.extensions["sublarr.stopped"] = True
        logger.info("shutting down")
        stop_background(app)
        from sublarr.core.db import dispose_db

        dispose_db()


def _exit_now() -> None:
    logging.shutdown()
    os._exit(0)


def run_server(settings: Settings, on_ready: Callable[[str, int], None] | None = None) -> int:
    """Serve until Ctrl-C or SIGTERM; return the exit status once shut down (0: clean)."""
    log_uncaught_exceptions()  # this process and its worker: nothing raw on stderr
    server = SublarrServer(settings, on_ready)
    master = os.getpid()
    try:
        server.run()
    except SystemExit as exc:  # Gunicorn's arbiter ends with sys.exit(status)
        if os.getpid() != master:
            raise  # the forked worker leaving: it must not run the caller's code
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    else:
        status = 0
    sys.stdout.flush()
    return status
