"""The Flask extension a host application uses: ``Sublarr(app, socketio)``.

It configures sublarr from the app: ``SUBLARR_*`` keys in ``app.config`` win over the
environment, which wins over the config file (``sublarr.core.settings.load_settings``).
Those settings are the app's (``app.extensions["sublarr.settings"]``, and what
``current_settings()`` returns inside the app context); the database they name is opened
(created and migrated), and the plugins they allow are loaded into the current plugin
manager.
"""

from __future__ import annotations

import logging
from typing import Any

from sublarr.core.plugin_manager import (
    SublarrPluginManager,
    get_plugin_manager,
    load_plugins,
    set_plugin_manager,
)
from sublarr.core.settings import FLASK_SETTINGS_KEY, Settings, load_settings

logger = logging.getLogger(__name__)

EXTENSION_KEY = "sublarr"
SETTINGS_KEY = FLASK_SETTINGS_KEY


def plugin_manager_for(settings: Settings) -> SublarrPluginManager:
    """The current plugin manager if it loads what ``settings`` allow, else a new current one that does."""
    pm = load_plugins(settings)  # creates it from `settings` when none is current
    if pm.settings.plugin_selection() == settings.plugin_selection():
        return pm
    logger.info("plugin settings differ from the current plugin manager's: loading the plugins anew")
    pm = SublarrPluginManager(settings)
    set_plugin_manager(pm)
    pm.load_entry_points()
    return pm


class Sublarr:
    """Binds sublarr to a Flask app: settings, database, plugins; plugins see the app and SocketIO.

    ``Sublarr(app, socketio=socketio)`` or, with an app factory,
    ``ext = Sublarr(); ext.init_app(app, socketio)``. ``settings`` (optional) replaces
    what ``app.config`` and the environment say. With the built-in SocketIO bridge loaded,
    every catalog event then reaches the app's WebSocket clients.
    """

    def __init__(self, app: Any = None, socketio: Any = None, *, settings: Settings | None = None) -> None:
        self.socketio = socketio
        self._settings = settings
        if app is not None:
            self.init_app(app, socketio, settings=settings)

    def init_app(self, app: Any, socketio: Any = None, *, settings: Settings | None = None) -> None:
        """Configure sublarr from ``app``, open its database, load its plugins, call their ``init_app``.

        Raises ``SettingsError`` for a bad ``SUBLARR_*`` value and ``StorageError`` when
        the database cannot be opened.
        """
        from sublarr.core.db.engine import database_url_for, init_db

        socketio = socketio if socketio is not None else self.socketio
        if socketio is None:
            socketio = app.extensions.get("socketio")
        self.socketio = socketio
        settings = settings or self._settings or load_settings(app.config)
        app.extensions[SETTINGS_KEY] = settings
        init_db(database_url_for(settings))
        pm = plugin_manager_for(settings)
        pm.check_plugin_settings(settings)
        app.extensions[EXTENSION_KEY] = self
        pm.call_hook("init_app", app=app, socketio=socketio)
        logger.debug("sublarr bound to app %r (socketio: %s)", app.name, socketio is not None)

    @property
    def plugin_manager(self) -> SublarrPluginManager:
        """The current plugin manager."""
        return get_plugin_manager()


def init_event_system(app: Any, socketio: Any = None) -> Sublarr:
    """The original plan's entry point: ``Sublarr(app, socketio)``."""
    return Sublarr(app, socketio)
