"""sublarr.core: events, hooks and custom scoring for a Sonarr/Radarr subtitle manager.

What plugin authors and host applications import::

    from sublarr.core import hookimpl, emit_event, Sublarr
"""

from __future__ import annotations

from sublarr.core.errors import (
    EventRegistrationError,
    InvalidPayloadError,
    NotFoundError,
    PluginLoadError,
    StorageError,
    SublarrError,
    UnknownEventError,
    ValidationError,
)
from sublarr.core.events.catalog import CATALOG_VERSION, EVENT_CATALOG, sublarr_signals
from sublarr.core.events.emit import emit_event
from sublarr.core.events.flask_extension import Sublarr, init_event_system
from sublarr.core.hookspecs import hookimpl, hookspec
from sublarr.core.plugin_manager import (
    SublarrPluginManager,
    get_plugin_manager,
    load_plugins,
    only_events,
    reset_plugin_manager,
    set_plugin_manager,
)
from sublarr.core.scoring.compute import compute_score, explain_score, invalidate_scoring_cache, score_many
from sublarr.core.scoring.models import SubtitleResult, VideoQuery

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
    "StorageError",
    "SubtitleResult",
    "Sublarr",
    "SublarrError",
    "SublarrPluginManager",
    "UnknownEventError",
    "VideoQuery",
    "ValidationError",
    "__version__",
    "compute_score",
    "emit_event",
    "explain_score",
    "get_plugin_manager",
    "hookimpl",
    "hookspec",
    "init_event_system",
    "invalidate_scoring_cache",
    "load_plugins",
    "only_events",
    "reset_plugin_manager",
    "score_many",
    "set_plugin_manager",
    "sublarr_signals",
]
