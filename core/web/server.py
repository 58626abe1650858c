"""The production server behind ``sublarr serve``: Gunicorn, one gevent worker, everything in it.

Why Gunicorn with gevent: Flask-SocketIO documents Gunicorn with the gevent (or eventlet)
worker and exactly ONE worker process (Socket.IO sessions live in that process's memory) as
its production set-up; gevent is actively maintained, while eventlet is in bug-fix-only
mode and discourages new use. One evented process holds thousands of Socket.IO clients (a
WebSocket is a greenlet, not a thread); simple-websocket gives it real WebSockets. Gunicorn
monkey-patches the standard library, so sockets (webhook HTTP, the script helper's Unix
socket), ``subprocess``, ``time.sleep`` and psycopg 3 (which detects gevent) cooperate with
the event loop. SQLite calls do not: the delivery workers (every script, webhook and queue
query) run on real OS threads (``sublarr.core.delivery.worker_pool``), so only the REST
API's own short queries run on the loop.

Slow or half-open clients hold a connection slot, never the server: a request's headers
must arrive within ``READ_TIMEOUT_SECONDS`` (an idle keep-alive connection is closed after
as long), and at most ``SUBLARR_MAX_CONNECTIONS`` connections are held at once (capped by
the open-files limit, whose soft value is raised to the hard one at start); past that, new
ones get a 503 and are closed. Werkzeug's development server is never used.

Events of other processes: with ``SUBLARR_MESSAGE_QUEUE`` the Socket.IO server's Redis
listener (a greenlet; gevent has patched the Redis client's sockets) starts with the
server, so an event emitted by any process sharing the queue reaches this server's
clients; without it an ``EventFollower`` (``sublarr.core.events.relay``, a real OS thread)
relays the events that server-less processes stored in ``recent_events``. ``serve
--no-workers`` starts no delivery workers: ``sublarr worker`` processes run the deliveries.

Shutdown: Ctrl-C (SIGINT) or SIGTERM stops accepting requests, tells every Socket.IO client
it is disconnected (a Socket.IO DISCONNECT, then the Engine.IO close: clients see a server
disconnect, not a lost transport), then drains the delivery workers (running deliveries
finish, up to ``SUBLARR_DELIVERY_SHUTDOWN_TIMEOUT``; queued ones stay queued in the database
for the next start) and the worker exits at once. SIGTERM is handled like SIGINT in the
worker: Gunicorn's graceful SIGTERM would wait for every open Socket.IO request (each
WebSocket is one) before sublarr's shutdown ran. ``graceful_timeout`` leaves room for the
drain.
"""

from __future__ import annotations

import logging
import math
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

from sublarr.core import __version__
from sublarr.core.settings import FLASK_SETTINGS_KEY, Settings
from sublarr.core.settings.log_format import gunicorn_logconfig, log_uncaught_exceptions

logger = logging.getLogger(__name__)

POOL_KEY = "sublarr.delivery_pool"
EVENT_FOLLOWER_KEY = "sublarr.event_follower"
EXIT_GRACE_SECONDS = 3.0
DISCONNECT_WAIT_SECONDS = 1.0
SHUTDOWN_MARGIN_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 5  # request headers, and an idle keep-alive connection
UNAUTHENTICATED_SECONDS = 5.0  # an Engine.IO session connected to no namespace is closed after
RESERVED_FILES = 64  # open files kept for the database, scripts, webhooks and logs


def raise_open_files_limit() -> int:
    """Raise this process's open-files soft limit to the hard limit; return the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as exc:
            logger.warning("could not raise the open-files limit from %d to %d: %s", soft, hard, exc)
    return soft


def connection_capacity(settings: Settings) -> int:
    """Connections the server holds at once: ``SUBLARR_MAX_CONNECTIONS``, capped by open files."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = int(getattr(settings, "max_connections", 10000))
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - RESERVED_FILES))


def start_background(app: Any, workers: bool = True) -> None:
    """Start the hook/webhook delivery workers (unless ``workers`` is false) and the event relay.

    The workers are reported in ``/api/v1/health``. Events of other processes reach this
    server's Socket.IO clients through the message queue (its listener starts now, not at
    the first client) or, without one, through ``recent_events`` (``EVENT_FOLLOWER_KEY``).
    """
    if workers:
        from sublarr.core.delivery.worker_pool import start_pool

        pool = start_pool(app.extensions[FLASK_SETTINGS_KEY])
        app.extensions[POOL_KEY] = pool
        app.extensions.setdefault("sublarr.health_checks", {})["delivery"] = lambda: (
            "running" if pool.started else "stopped"
        )
    socketio = app.extensions.get("socketio")
    if socketio is not None:
        socketio.start_background_task(_close_unauthenticated_sessions, socketio)
        _start_event_relay(app, socketio)


def _start_event_relay(app: Any, socketio: Any) -> None:
    """Receive other processes' events: subscribe to the message queue, or follow ``recent_events``."""
    from socketio import PubSubManager  # type: ignore[import-untyped]

    from sublarr.core.plugin_manager import get_plugin_manager

    server = socketio.server
    if isinstance(server.manager, PubSubManager):
        if not server.manager_initialized:  # python-socketio would start the listener at the first client
            server.manager_initialized = True
            server.manager.initialize()
        app.extensions.setdefault("sublarr.health_checks", {})["message_queue"] = _message_queue_check(
            server.manager.redis_url
        )
        logger.info("Socket.IO events shared through the message queue (SUBLARR_MESSAGE_QUEUE)")
        return
    bridge = get_plugin_manager().get_plugin("socketio_bridge")
    if bridge is None or not hasattr(bridge, "forward"):
        return  # the bridge is disabled: no event reaches Socket.IO clients at all
    from sublarr.core.events.relay import EventFollower

    app.extensions[EVENT_FOLLOWER_KEY] = EventFollower(bridge.forward).start()


def _message_queue_check(url: str) -> Callable[[], str]:
    """A health check: ``ok`` while Redis answers a PING within a second, else ``failing: ...``."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    def check() -> str:
        try:
            client.ping()
        except redis.RedisError as exc:
            logger.warning("message queue check failed: %s", exc)
            return "failing: the message queue (Redis) does not answer"
        return "ok"

    return check


def _close_unauthenticated_sessions(socketio: Any) -> None:
    """Close Engine.IO sessions that connect to no namespace within ``UNAUTHENTICATED_SECONDS``.

    A Socket.IO handshake needs no key (the key comes in the connect's ``auth``), so a
    session refused at connect, or one that never connects, must not hold a slot.
    """
    first_seen: dict[str, float] = {}
    while True:
        socketio.sleep(UNAUTHENTICATED_SECONDS / 2)
        try:
            server = socketio.server
            now = time.monotonic()
            sessions = set(server.eio.sockets)
            namespaces = list(server.manager.get_namespaces())
            for eio_sid in sessions:
                if any(server.manager.sid_from_eio_sid(eio_sid, ns) is not None for ns in namespaces):
                    first_seen.pop(eio_sid, None)
                elif now - first_seen.setdefault(eio_sid, now) >= UNAUTHENTICATED_SECONDS:
                    first_seen.pop(eio_sid, None)
                    # Each close on its own task: closing a session whose peer went away can
                    # wait on its socket, and must not hold the sweep for the other sessions.
                    socketio.start_background_task(server.eio.disconnect, eio_sid)
            for gone in set(first_seen) - sessions:
                del first_seen[gone]
        except Exception:  # the sweep must outlive one bad round
            logger.exception("closing unauthenticated Socket.IO sessions failed")


def stop_background(app: Any) -> None:
    """Disconnect Socket.IO clients, then stop the delivery workers, letting running work finish."""
    from sublarr.core.delivery.worker_pool import stop_pool

    follower = app.extensions.pop(EVENT_FOLLOWER_KEY, None)
    if follower is not None:
        follower.stop()
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
    """Send every connected client a Socket.IO DISCONNECT, then close every Engine.IO session."""
    server = socketio.server
    try:
        connected = [
            (sid, namespace)
            for namespace in list(server.manager.get_namespaces())
            for sid, _ in list(server.manager.get_participants(namespace, None))
        ]
        for sid, namespace in connected:
            server.disconnect(sid, namespace=namespace)
        server.eio.disconnect()
        logger.info("disconnected %d Socket.IO client(s)", len(connected))
    except Exception:  # shutting down regardless
        logger.exception("disconnecting Socket.IO clients failed")


def banner(settings: Settings, host: str, port: int, key: Any, database: str, workers: bool = True) -> str:
    """What ``sublarr serve`` prints once it listens: URLs, where data lives, the key once."""
    shown_host = f"[{host}]" if ":" in host else host
    base = f"http://{shown_host}:{port}"
    lines = [
        f"sublarr {__version__} listening on {base}",
        f"  web page   {base}/   (API explorer: {base}/docs)",
        f"  REST API   {base}/api/v1   (OpenAPI: {base}/api/v1/openapi.json)",
        f"  Socket.IO  {base}/socket.io/   (send the API key too)",
        f"  data       {settings.data_dir}",
        f"  database   {database}",
        f"  capacity   {connection_capacity(settings)} connections at once "
        f"(SUBLARR_MAX_CONNECTIONS, open files {resource.getrlimit(resource.RLIMIT_NOFILE)[0]})",
    ]
    if settings.message_queue:
        lines.append("  events     shared with other processes through SUBLARR_MESSAGE_QUEUE (Redis)")
    else:
        lines.append("  events     of other processes on this database relayed to clients (no Redis)")
    if not workers:
        lines.append("  deliveries run by `sublarr worker` processes (--no-workers)")
    if key.generated:
        lines.append(f"  API key    {key.value}")
        lines.append(f"             new; shown this once, kept in {key.path} (mode 0600)")
        lines.append(f"  open       {base}/#apikey={key.value}")
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
    Gunicorn logs through ``sublarr.core.settings.log_format`` at ``settings.log_level`` (default
    ``info``), in the same format as sublarr's own lines.
    """

    def __init__(
        self,
        settings: Settings,
        on_ready: Callable[[str, int], None] | None = None,
        *,
        workers: bool = True,
    ) -> None:
        self.settings = settings
        self.on_ready = on_ready
        self.workers = workers
        super().__init__()

    def load_config(self) -> None:
        settings = self.settings
        host = settings.host
        bind = f"[{host}]:{settings.port}" if ":" in host else f"{host}:{settings.port}"
        options: dict[str, Any] = {
            "bind": [bind],
            "workers": 1,  # Socket.IO sessions live in one process
            "worker_class": "sublarr.core.web.gevent_worker.SublarrGeventWorker",
            "worker_connections": connection_capacity(settings),
            "timeout": 0,  # WebSocket requests last as long as the client stays
            "graceful_timeout": math.ceil(
                getattr(settings, "delivery_shutdown_timeout", 25.0) + SHUTDOWN_MARGIN_SECONDS
            ),
            "keepalive": READ_TIMEOUT_SECONDS,  # the gevent worker's header read timeout too
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

        self.application = create_app({"SUBLARR_ASYNC_MODE": "gevent"}, settings=self.settings)
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
        start_background(worker.wsgi, workers=self.workers)
        # SIGTERM like SIGINT/SIGQUIT: leave the request loop at once and run the shutdown
        # (worker_exit) instead of waiting for open Socket.IO requests first.
        quit_handler = worker.handle_quit

        def stop_now(signum: int, frame: Any) -> None:
            worker.wsgi.extensions.setdefault("sublarr.stop_signal_at", time.monotonic())
            quit_handler(signum, frame)

        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
            signal.signal(signum, stop_now)

    def _worker_exit(self, arbiter: Any, worker: Any) -> None:
        stopped = self._shutdown(worker)
        if stopped:
            # Deliveries are drained and the database closed: nothing left to wait for (request
            # threads of clients that have not hung up yet must not keep the process alive).
            _exit_now()
        timer = threading.Timer(EXIT_GRACE_SECONDS, _exit_now)
        timer.daemon = True
        timer.start()

    def _shutdown(self, worker: Any) -> bool:
        """Run the shutdown once; ``True`` when it ran after a stop signal (the worker may exit 0)."""
        app = getattr(worker, "wsgi", None)
        if app is None or getattr(app, "extensions", None) is None:
            return False
        if app.extensions.get("sublarr.stopped"):
            return False
        app.extensions["sublarr.stopped"] = True
        signalled = "sublarr.stop_signal_at" in app.extensions
        logger.info("shutting down")
        stop_background(app)
        from sublarr.core.db import dispose_db

        dispose_db()
        return signalled


def _exit_now() -> None:
    logging.shutdown()
    os._exit(0)


def run_server(
    settings: Settings, on_ready: Callable[[str, int], None] | None = None, *, workers: bool = True
) -> int:
    """Serve until Ctrl-C or SIGTERM; return the exit status once shut down (0: clean).

    ``workers=False`` (``serve --no-workers``): no delivery workers in this process; emits
    still queue deliveries, which ``sublarr worker`` processes run.
    """
    log_uncaught_exceptions()  # this process and its worker: nothing raw on stderr
    raise_open_files_limit()
    server = SublarrServer(settings, on_ready, workers=workers)
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
