"""The Flask extension a host application uses: ``Sublarr(app, socketio)``."""

from __future__ import annotations

import logging
from typing import Any

from sublarr.core.plugin_manager import SublarrPluginManager, get_plugin_manager

logger = logging.getLogger(__name__)

EXTENSION_KEY = "sublarr"


class Sublarr:
    """Binds sublarr to a Flask app: loads plugins and lets them see the app and SocketIO.

    ``Sublarr(app, socketio=socketio)`` or, with an app factory,
    ``ext = Sublarr(); ext.init_app(app, socketio)``. With the built-in SocketIO bridge
    loaded, every catalog event then reaches the app's WebSocket clients.
    """

    def __init__(self, app: Any = None, socketio: Any = None) -> None:
        self.socketio = socketio
        if app is not None:
            self.init_app(app, socketio)

    def init_app(self, app: Any, socketio: Any = None) -> None:
        """Register the extension on ``app`` and call every plugin's ``init_app`` hook."""
        socketio = socketio if socketio is not None else self.socketio
        if socketio is None:
            socketio = app.extensions.get("socketio")
        self.socketio = socketio
        app.extensions[EXTENSION_KEY] = self
        pm = self.plugin_manager
        pm.call_hook("init_app", app=app, socketio=socketio)
        logger.debug("sublarr bound to app %r (socketio: %s)", app.name, socketio is not None)

    @property
    def plugin_manager(self) -> SublarrPluginManager:
        """The current plugin manager."""
        return get_plugin_manager()


def init_event_system(app: Any, socketio: Any = None) -> Sublarr:
    """The original plan's entry point: ``Sublarr(app, socketio)``."""
    return Sublarr(app, socketio)
