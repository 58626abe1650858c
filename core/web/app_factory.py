"""``create_app``: the sublarr server as a Flask (APIFlask) app with Socket.IO and the REST API.

What it wires, in order: the settings (``SUBLARR_*`` keys of ``config`` over the environment
over the config file, or the ``settings`` given), the API key, Socket.IO with key-checked
connects, the sublarr extension (opens the database, loads the plugins; plugins see the
app), one blueprint per resource under ``/api/v1``, the error format and the OpenAPI
document at ``/api/v1/openapi.json``. Background workers (webhook deliveries) are started by the
server, not here; see ``sublarr.core.web.server``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from apiflask import APIFlask

# python-socketio's ConnectionRefusedError (not the builtin), re-exported by Flask-SocketIO,
# whose stubs leave it out.
from flask_socketio import ConnectionRefusedError as SocketIOConnectionRefused  # type: ignore[attr-defined]
from flask_socketio import SocketIO

from sublarr.core import __version__
from sublarr.core.events.flask_extension import SETTINGS_KEY, Sublarr
from sublarr.core.settings import Settings, load_settings
from sublarr.core.web.api_auth import (
    ApiKey,
    ApiKeyMiddleware,
    key_from_socketio_auth,
    key_matches,
    load_or_create_api_key,
)
from sublarr.core.web.api_errors import register_error_handlers
from sublarr.core.web.arr_webhooks import arr_webhooks
from sublarr.core.web.body_limit import BodyLimitMiddleware
from sublarr.core.web.deliveries_api import deliveries_api
from sublarr.core.web.events_api import events_api
from sublarr.core.web.health_api import health_api
from sublarr.core.web.hooks_api import hooks_api
from sublarr.core.web.notifications_api import notifications_api
from sublarr.core.web.openapi import SECURITY_SCHEMES, finish_spec
from sublarr.core.web.page import PAGE_PREFIX, PAGE_ROUTES, web_page
from sublarr.core.web.plugins_api import plugins_api
from sublarr.core.web.recovery_api import recovery_api
from sublarr.core.web.schemas import ErrorSchema
from sublarr.core.web.scoring_api import scoring_api
from sublarr.core.web.webhooks_api import webhooks_api

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
SPEC_PATH = f"{API_PREFIX}/openapi.json"
API_KEY_KEY = "sublarr.api_key"
MAX_BODY_BYTES = 1024 * 1024

DESCRIPTION = """The REST API of sublarr: events, script hooks, outgoing webhooks, custom
scoring, plugins and incoming Sonarr/Radarr webhooks.

Every route but `/api/v1/health` needs the API key, in the `X-Api-Key` header or the `apikey`
query parameter. Errors are `{"error": <code>, "detail": <reason>}`. Events also reach
Socket.IO clients connected to the same port (with the key) under their own names."""


def _library_logger(name: str) -> logging.Logger:
    """Logger ``name``, at WARNING unless configured: Socket.IO logs every packet at INFO."""
    library = logging.getLogger(name)
    if library.level == logging.NOTSET:
        library.setLevel(logging.WARNING)
    return library


def _socketio_connect_guard(socketio: SocketIO, key: ApiKey) -> None:
    from flask import request

    @socketio.on("connect")
    def _connect(auth: Any = None) -> None:
        if not key_matches(key.value, key_from_socketio_auth(auth, request.environ)):
            logger.info("refused a Socket.IO connection without a valid API key")
            raise SocketIOConnectionRefused("unauthorized")


def create_app(config: Mapping[str, Any] | None = None, *, settings: Settings | None = None) -> APIFlask:
    """Build the sublarr app; ``config`` entries (``SUBLARR_*`` keys, Flask keys) win over the rest.

    ``settings`` (what ``sublarr serve`` passes) replaces the ``SUBLARR_*`` lookup. The
    SocketIO server is ``app.extensions["socketio"]``, the extension
    ``app.extensions["sublarr"]``, the settings ``app.extensions["sublarr.settings"]``. The
    database is opened and migrated here.
    """
    app = APIFlask(
        "sublarr",
        title="sublarr",
        version=__version__,
        spec_path=SPEC_PATH,
        docs_path=None,
        # Both given: Flask would otherwise look them up through the ``sublarr`` namespace
        # package, which fails when it spans an editable and a regular install.
        root_path=str(Path(__file__).resolve().parent),
        instance_path=str(Path(__file__).resolve().parent / "instance"),
    )
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        DESCRIPTION=DESCRIPTION,
        SECURITY_SCHEMES=SECURITY_SCHEMES,
        HTTP_ERROR_SCHEMA=ErrorSchema,
        VALIDATION_ERROR_SCHEMA=ErrorSchema,
        VALIDATION_ERROR_DESCRIPTION="The body or query breaks its schema",
        AUTO_OPERATION_ID=True,
    )
    if config:
        app.config.update(config)
    if settings is None:
        settings = load_settings(app.config)
    app.extensions[SETTINGS_KEY] = settings
    api_key = load_or_create_api_key(settings.data_dir, settings.api_key)
    app.extensions[API_KEY_KEY] = api_key

    queue_options: dict[str, Any] = {}
    if settings.message_queue:  # emits reach the clients of every server sharing it
        from sublarr.core.events.relay import require_redis_client

        require_redis_client(settings.message_queue)
        queue_options["message_queue"] = settings.message_queue
    socketio = SocketIO(
        app,
        async_mode=app.config.get("SUBLARR_ASYNC_MODE", "threading"),
        **queue_options,
        # Their own loggers, not the libraries' defaults (which add a bare StreamHandler each
        # time): their lines go through the host's (the server's) log format.
        logger=_library_logger("socketio.server"),
        engineio_logger=_library_logger("engineio.server"),
    )
    _socketio_connect_guard(socketio, api_key)
    Sublarr(app, socketio, settings=settings)

    register_error_handlers(app)
    for blueprint in (
        events_api,
        hooks_api,
        webhooks_api,
        deliveries_api,
        scoring_api,
        plugins_api,
        health_api,
        arr_webhooks,
        notifications_api,
        recovery_api,
        web_page,
    ):
        app.register_blueprint(blueprint)
    # apiflask types the callback as taking a dict or a str; it passes the spec as a dict.
    app.spec_processor(finish_spec)  # type: ignore[arg-type]

    # Flask's documented way to add WSGI middleware: replace the wsgi_app method.
    app.wsgi_app = BodyLimitMiddleware(app.wsgi_app, lambda: app.config.get("MAX_CONTENT_LENGTH"))  # type: ignore[method-assign]
    app.wsgi_app = ApiKeyMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, lambda: api_key.value, page_paths=PAGE_ROUTES, page_prefix=PAGE_PREFIX
    )
    return app
