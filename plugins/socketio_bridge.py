"""Built-in plugin: forwards every catalog event to the host's Socket.IO clients.

Each event, plugin events included, is emitted to all connected clients under its own
name. The message body is one envelope: the event's payload with two keys added,
``event_id`` (the id ``emit_event`` returned) and ``timestamp`` (ISO-8601 UTC with
milliseconds), which win over payload keys of the same name.

Under gevent (``sublarr serve``), an event emitted off the server's event-loop thread (by a
delivery worker, a real OS thread) is handed to that loop: gevent's queues must only be
used from their own thread.

Across processes: with ``SUBLARR_MESSAGE_QUEUE`` (Redis) a server's Socket.IO uses
Flask-SocketIO's message queue, so its emits reach the clients of every server; under gevent
they are published by one greenlet, in the order they were emitted (a Redis publish may
wait, which the event loop's own callbacks must not). A process without a Socket.IO server
(``sublarr emit``, ``sublarr worker``, a host application's job) publishes through a
write-only emitter, ``SocketIO(message_queue=...)`` without an app. Without a message queue
such a process appends the event to the database instead, and servers relay it to their
clients (``sublarr.core.events.relay``).
"""

from __future__ import annotations

import logging
import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from sublarr.core import hookimpl

logger = logging.getLogger(__name__)


def envelope(payload: dict[str, Any], event_id: str, timestamp: str) -> dict[str, Any]:
    """The body every Socket.IO client gets: ``payload`` plus ``event_id`` and ``timestamp``.

    ``payload`` is this plugin's own copy (``on_event`` gets one per plugin): it is completed
    in place rather than copied once more on the emit path.
    """
    payload["event_id"] = event_id
    payload["timestamp"] = timestamp
    return payload


class SocketIOBridge:
    """Holds the Socket.IO servers of the apps bound with ``Sublarr(app, socketio)``."""

    def __init__(self) -> None:
        self._refs: list[weakref.ref[Any]] = []
        self._loop_call: Callable[..., Any] | None = None
        self._loop_thread: int | None = None
        self._thread_id: Callable[[], int] = threading.get_ident
        self._ordered: _OrderedLoopSender | None = None
        self._writer: tuple[str, Any] | None = None  # (URL, write-only SocketIO) without a server
        self._writer_lock = threading.Lock()
        self._relay_failing: str | None = None

    @property
    def servers(self) -> list[Any]:
        """The Socket.IO servers events are forwarded to."""
        return [s for s in (ref() for ref in self._refs) if s is not None]

    def forget(self, socketio: Any = None) -> None:
        """Stop forwarding to ``socketio`` (or to every server when ``None``)."""
        self._refs = [r for r in self._refs if socketio is not None and r() not in (None, socketio)]

    @hookimpl
    def init_app(self, app: Any, socketio: Any) -> None:
        if socketio is not None and socketio not in self.servers:
            self._refs = [*(r for r in self._refs if r() is not None), weakref.ref(socketio)]
        self._loop_call, self._loop_thread = _event_loop_of_this_thread()
        if self._loop_call is not None:  # looked up once here, not per event
            self._thread_id = _os_thread_id_function()
            if socketio is not None and uses_message_queue(socketio) and self._ordered is None:
                self._ordered = _OrderedLoopSender(self._loop_call, self._loop_thread, self._thread_id)

    @hookimpl
    def on_event(self, event_name: str, payload: dict[str, Any], event_id: str, timestamp: str) -> None:
        message = envelope(payload, event_id, timestamp)
        if not self.forward(event_name, message):
            self._emit_elsewhere(event_name, message)

    def forward(self, event_name: str, message: dict[str, Any]) -> bool:
        """Emit ``message`` to this process's Socket.IO servers; ``False`` when it has none."""
        sent = False
        for ref in self._refs:
            server = ref()
            if server is not None:
                sent = True
                if self._ordered is not None:
                    self._ordered.submit(server.emit, event_name, message)
                elif self._loop_call is not None and self._thread_id() != self._loop_thread:
                    self._loop_call(server.emit, event_name, message)
                else:
                    server.emit(event_name, message)
                logger.debug("bridged event %s to Socket.IO", event_name)
        return sent

    def _emit_elsewhere(self, event_name: str, message: dict[str, Any]) -> None:
        """No server here: publish on the message queue, or store the event for servers to relay."""
        from sublarr.core.plugin_manager import get_plugin_manager

        url = getattr(get_plugin_manager().settings, "message_queue", None)
        if url:
            from sublarr.core.errors import SublarrError

            try:
                with self._writer_lock:  # one publish at a time: this process's order is kept
                    self._write_only_emitter(url).emit(event_name, message)
            except SublarrError as exc:  # the redis package is missing: said once per process
                if str(exc) != self._relay_failing:
                    logger.warning("event %s not sent to Socket.IO clients: %s", event_name, exc)
                    self._relay_failing = str(exc)
                return
            logger.debug("published event %s on the message queue", event_name)
            return
        from sublarr.core.events import relay

        try:
            relay.append_event(event_name, message)
        except Exception as exc:  # noqa: BLE001 - Socket.IO is best effort; hooks and webhooks are not affected
            from sublarr.core.delivery.store import describe_storage_failure

            reason = describe_storage_failure(exc)
            if reason != self._relay_failing:
                logger.warning("events cannot be stored for servers to relay (%s)", reason)
                self._relay_failing = reason
        else:
            self._relay_failing = None

    def _write_only_emitter(self, url: str) -> Any:
        if self._writer is None or self._writer[0] != url:
            from sublarr.core.events.relay import require_redis_client

            require_redis_client(url)
            from flask_socketio import SocketIO

            writer = SocketIO(
                message_queue=url,
                async_mode="threading",
                logger=logging.getLogger("socketio.server"),
                engineio_logger=logging.getLogger("engineio.server"),
            )
            self._writer = (url, writer)
        return self._writer[1]


def uses_message_queue(socketio: Any) -> bool:
    """Whether Flask-SocketIO server ``socketio`` shares its emits through a message queue."""
    from socketio import PubSubManager  # type: ignore[import-untyped]

    server = getattr(socketio, "server", None)
    return isinstance(getattr(server, "manager", None), PubSubManager)


class _OrderedLoopSender:
    """Runs calls one after the other on one greenlet of the server's loop, from any thread.

    A Redis publish waits for the network: it cannot run in a loop callback, and greenlets
    of their own would let two publishes overtake each other.
    """

    def __init__(
        self, loop_call: Callable[..., Any], loop_thread: int | None, thread_id: Callable[[], int]
    ) -> None:
        import gevent
        from gevent.event import Event

        self._loop_call = loop_call
        self._loop_thread = loop_thread
        self._thread_id = thread_id
        self._pending: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._wake = Event()
        self._greenlet = gevent.spawn(self._run)

    def submit(self, call: Callable[..., Any], *args: Any) -> None:
        """Queue ``call(*args)``; thread-safe."""
        self._pending.append((call, args))
        if self._thread_id() == self._loop_thread:
            self._wake.set()
        else:
            self._loop_call(self._wake.set)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            while self._pending:
                call, args = self._pending.popleft()
                try:
                    call(*args)
                except Exception:  # one failed emit must not stop the next
                    logger.exception("emitting an event to Socket.IO failed")


def _os_thread_id_function() -> Callable[[], int]:
    """The function giving the OS thread's id, also under gevent's monkey-patching."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        get_ident: Callable[[], int] = monkey.get_original("_thread", "get_ident")
        return get_ident
    return threading.get_ident


def _event_loop_of_this_thread() -> tuple[Callable[..., Any] | None, int | None]:
    """Under gevent's monkey-patching: a thread-safe "run on this thread's loop" and this OS thread."""
    from sublarr.core.delivery.worker_pool import gevent_patched

    if not gevent_patched():
        return None, None
    import gevent

    return gevent.get_hub().loop.run_callback_threadsafe, _os_thread_id_function()()


bridge = SocketIOBridge()
