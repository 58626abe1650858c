"""Events: the catalog, payload validation, ``emit_event`` and the Flask extension.

``emit_event(name, data)`` is the one way to publish an event; ``EVENT_CATALOG`` lists
every event with its payload keys; ``Sublarr(app, socketio)`` binds a host Flask app.
"""

from __future__ import annotations

from sublarr.core.events.catalog import (
    BUILTIN_EVENT_NAMES,
    CATALOG_VERSION,
    EVENT_CATALOG,
    describe_catalog,
    register_event,
    sublarr_signals,
)
from sublarr.core.events.emit import emit_event
from sublarr.core.events.flask_extension import Sublarr, init_event_system

__all__ = [
    "BUILTIN_EVENT_NAMES",
    "CATALOG_VERSION",
    "EVENT_CATALOG",
    "Sublarr",
    "describe_catalog",
    "emit_event",
    "init_event_system",
    "register_event",
    "sublarr_signals",
]
