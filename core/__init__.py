"""sublarr.core: events, hooks and custom scoring for a Sonarr/Radarr subtitle manager.

What plugin authors and host applications import::

    from sublarr.core import hookimpl, emit_event, Sublarr, plugin_setting

Everything else has a home of its own: ``sublarr.core.events`` (the catalog, signals,
``init_event_system``), ``sublarr.core.scoring`` (weights, validation, caches),
``sublarr.core.plugin_manager``, ``sublarr.core.errors``, ``sublarr.core.db``,
``sublarr.core.delivery``, and ``sublarr.core.testing`` for tests.
"""

from __future__ import annotations

from sublarr.core.errors import (
    EventNotStoredError,
    InvalidPayloadError,
    NotFoundError,
    PluginLoadError,
    StorageError,
    SublarrError,
    UnknownEventError,
    ValidationError,
)
from sublarr.core.events.catalog import EVENT_CATALOG
from sublarr.core.events.emit import emit_event
from sublarr.core.events.flask_extension import Sublarr
from sublarr.core.hookspecs import hookimpl
from sublarr.core.plugin_manager import get_plugin_manager, load_plugins, only_events
from sublarr.core.scoring import (
    SubtitleResult,
    VideoQuery,
    compute_score,
    explain_score,
    format_explanation,
    invalidate_scoring_cache,
    score_many,
)
from sublarr.core.settings.plugins import plugin_setting, plugin_settings
from sublarr.core.version import __version__

__all__ = [
    "EVENT_CATALOG",
    "EventNotStoredError",
    "InvalidPayloadError",
    "NotFoundError",
    "PluginLoadError",
    "StorageError",
    "SubtitleResult",
    "Sublarr",
    "SublarrError",
    "UnknownEventError",
    "ValidationError",
    "VideoQuery",
    "__version__",
    "compute_score",
    "emit_event",
    "explain_score",
    "format_explanation",
    "get_plugin_manager",
    "hookimpl",
    "invalidate_scoring_cache",
    "load_plugins",
    "only_events",
    "plugin_setting",
    "plugin_settings",
    "score_many",
]
