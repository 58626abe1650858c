"""Built-in plugin: forwards every catalog event to the host's Socket.IO clients.

Each event, plugin events included, is emitted to all connected clients under its own
name, with its payload as the message body.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

from sublarr.core import hookimpl

logger = logging.getLogger(__name__)


class SocketIOBridge:
    """Holds the Socket.IO servers of the apps bound with ``Sublarr(app, socketio)``."""

    def __init__(self) -> None:
        self._servers: weakref.WeakSet[Any] = weakref.WeakSet()

    @property
    def servers(self) -> list[Any]:
        """The Socket.IO servers events are forwarded to."""
        return list(self._servers)

    def forget(self, socketio: Any = None) -> None:
        """Stop forwarding to ``socketio`` (or to every server when ``None``)."""
        if socketio is None:
            self._servers.clear()
        else:
            self._servers.discard(socketio)

    @hookimpl
    def init_app(self, app: Any, socketio: Any) -> None:
        if socketio is not None:
            self._servers.add(socketio)

    @hookimpl
    def on_event(self, event_name: str, payload: dict[str, Any]) -> None:
        for server in self.servers:
            server.emit(event_name, payload)
            logger.debug("bridged event %s to Socket.IO", event_name)


bridge = SocketIOBridge()
