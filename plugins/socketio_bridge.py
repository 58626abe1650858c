"""Built-in plugin: forwards every catalog event to the host's Socket.IO clients.

Each event, plugin events included, is emitted to all connected clients under its own
name. The message body is one envelope: the event's payload with two keys added,
``event_id`` (the id ``emit_event`` returned) and ``timestamp`` (ISO-8601 UTC with
milliseconds), which win over payload keys of the same name.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

from sublarr.core import hookimpl

logger = logging.getLogger(__name__)


def envelope(payload: dict[str, Any], event_id: str, timestamp: str) -> dict[str, Any]:
    """The body every Socket.IO client gets: ``payload`` plus ``event_id`` and ``timestamp``."""
    return {**payload, "event_id": event_id, "timestamp": timestamp}


class SocketIOBridge:
    """Holds the Socket.IO servers of the apps bound with ``Sublarr(app, socketio)``."""

    def __init__(self) -> None:
        self._refs: list[weakref.ref[Any]] = []

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

    @hookimpl
    def on_event(self, event_name: str, payload: dict[str, Any], event_id: str, timestamp: str) -> None:
        message = None
        for ref in self._refs:
            server = ref()
            if server is not None:
                if message is None:
                    message = envelope(payload, event_id, timestamp)
                server.emit(event_name, message)
                logger.debug("bridged event %s to Socket.IO", event_name)


bridge = SocketIOBridge()
