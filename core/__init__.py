"""sublarr.core: events, hooks and custom scoring for a Sonarr/Radarr subtitle manager.

What plugin authors and host applications import::

    from sublarr.core import hookimpl, emit_event, Sublarr
"""

from __future__ import annotations

from .errors import (
    EventRegistrationError,
    InvalidPayloadError,
    NotFoundError,
    PluginLoadError,
    SublarrError,
    UnknownEventError,
    ValidationError,
)
from .event_catalog import CATALOG_VERSION, EVENT_CATALOG, sublarr_signals
from .events import emit_event
from .flask_extension import Sublarr, init_event_system
from .hookspecs import hookimpl, hookspec
from .plugin_manager import (
    SublarrPluginManager,
    get_plugin_manager,
    load_plugins,
    reset_plugin_manager,
    set_plugin_manager,
)

try:
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("sublarr")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "CATALOG_VERSION",
    "EVENT_CATALOG",
    "EventRegistrationError",
    "InvalidPayloadError",
    "NotFoundError",
    "PluginLoadError",
    "Sublarr",
    "SublarrError",
    "SublarrPluginManager",
    "UnknownEventError",
    "ValidationError",
    "__version__",
    "emit_event",
    "get_plugin_manager",
    "hookimpl",
    "hookspec",
    "init_event_system",
    "load_plugins",
    "reset_plugin_manager",
    "set_plugin_manager",
    "sublarr_signals",
]
