"""``create_app``: a Flask app with Socket.IO and the sublarr extension bound."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from flask_socketio import SocketIO

from ..flask_extension import Sublarr


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the sublarr Flask app; ``config`` entries (``SUBLARR_*`` keys) override defaults.

    The SocketIO server is ``app.extensions["socketio"]``, the extension
    ``app.extensions["sublarr"]``.
    """
    app = Flask("sublarr", root_path=str(Path(__file__).resolve().parent))
    if config:
        app.config.update(config)
    socketio = SocketIO(app, async_mode=app.config.get("SUBLARR_ASYNC_MODE", "threading"))
    Sublarr(app, socketio)
    return app
