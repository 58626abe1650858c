"""Built-in plugin: forwards every catalog event to the host's Socket.IO clients.

Each event, plugin events included, is emitted to all connected clients under its own
name. The message body is one envelope: the event's payload with two keys added,
``event_id`` (the id ``emit_event`` returned) and ``timestamp`` (ISO-8601 UTC with
milliseconds), which win over payload keys of the same name.

Under gevent (``sublarr serve``), an event emitted off the server's event-loop thread (by a
delivery worker, a real OS thread) is handed to that loop: gevent's queues must only be
used from their own thread.
"""

from __future__ import annotations

import logging
import sys
import threading
import weakref
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

    @hookimpl
    def on_event(self, event_name: str, payload: dict[str, Any], event_id: str, timestamp: str) -> None:
        message = None
        for ref in self._refs:
            server = ref()
            if server is not None:
                if message is None:
                    message = envelope(payload, event_id, timestamp)
                if self._loop_call is not None and self._thread_id() != self._loop_thread:
                    self._loop_call(server.emit, event_name, message)
                else:
                    server.emit(event_name, message)
                logger.debug("bridged event %s to Socket.IO", event_name)


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
