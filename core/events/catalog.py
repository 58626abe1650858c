"""The event catalog: one blinker signal per event, with its label, description and payload keys.

``EVENT_CATALOG`` maps an event name to ``{"signal", "label", "description",
"payload_keys", "source"}``. It holds the built-in events below plus those that plugins
add through the ``register_events`` hook (``reset_catalog`` drops the latter).
Payload keys carry titles and relative paths, never credentials or absolute paths.
"""

from __future__ import annotations

import re
from typing import Any

import blinker

from sublarr.core.errors import EventRegistrationError

CATALOG_VERSION = 2  # 2: webhook_received carries ids, quality, release group, ...

sublarr_signals = blinker.Namespace()

_MEDIA = ["media_type", "title", "series_title", "season", "episode", "year"]

# name -> (label, description, payload_keys)
_BUILTIN_EVENTS: dict[str, tuple[str, str, list[str]]] = {
    "subtitle_downloaded": (
        "Subtitle downloaded",
        "A subtitle was downloaded and saved next to its video.",
        [*_MEDIA, "language", "provider_name", "score", "format", "hearing_impaired", "relative_path"],
    ),
    "translation_complete": (
        "Translation complete",
        "A subtitle was translated into a target language.",
        [
            *_MEDIA,
            "source_language",
            "target_language",
            "backend",
            "line_count",
            "duration_seconds",
            "relative_path",
        ],
    ),
    "translation_failed": (
        "Translation failed",
        "Translating a subtitle failed.",
        [*_MEDIA, "source_language", "target_language", "backend", "error"],
    ),
    "provider_search_complete": (
        "Provider search complete",
        "A subtitle search across the providers finished.",
        [*_MEDIA, "language", "providers", "result_count", "best_score", "duration_ms"],
    ),
    "provider_failed": (
        "Provider failed",
        "A subtitle provider raised an error or timed out.",
        ["provider_name", "error", "title", "media_type"],
    ),
    "wanted_scan_complete": (
        "Wanted scan complete",
        "The scan for items missing subtitles finished.",
        ["total_items", "new_items", "removed_items", "duration_seconds"],
    ),
    "wanted_item_processed": (
        "Wanted item processed",
        "One wanted item was searched for.",
        [*_MEDIA, "language", "status", "provider_name", "score"],
    ),
    "upgrade_complete": (
        "Upgrade complete",
        "A subtitle was replaced by a better-scoring one.",
        [*_MEDIA, "language", "old_score", "new_score", "provider_name", "relative_path"],
    ),
    "batch_complete": (
        "Batch complete",
        "A batch job (search, translation, sync) finished.",
        ["batch_id", "batch_type", "total", "succeeded", "failed", "duration_seconds"],
    ),
    "webhook_received": (
        "Webhook received",
        "Sonarr or Radarr called sublarr's incoming webhook (event_type ImportComplete: Sonarr's "
        "summary of a whole download, sent beside its per-file Download calls).",
        [
            "source",
            "event_type",
            "media_type",
            "title",
            "year",
            "season",
            "episode",
            # added in catalog version 2
            "instance_name",
            "series_id",
            "movie_id",
            "episode_id",
            "tvdb_id",
            "tmdb_id",
            "imdb_id",
            "is_upgrade",
            "quality",
            "release_group",
            "languages",
            "relative_path",
            "file_count",
            "delete_reason",
            "health_level",
            "health_message",
            "health_type",
            "previous_version",
            "new_version",
        ],
    ),
    "config_updated": (
        "Configuration updated",
        "Settings, scoring weights or provider modifiers changed.",
        ["section", "keys"],
    ),
    "whisper_complete": (
        "Whisper transcription complete",
        "Speech-to-text produced a subtitle.",
        [*_MEDIA, "language", "model", "duration_seconds", "relative_path"],
    ),
    "whisper_failed": (
        "Whisper transcription failed",
        "Speech-to-text failed for a video.",
        [*_MEDIA, "language", "model", "error"],
    ),
    "hook_executed": (
        "Hook executed",
        "A script hook or outgoing webhook delivery finished (meta-event).",
        [
            "hook_id",
            "webhook_id",
            "hook_type",
            "hook_name",
            "event_name",
            "delivery_id",
            "attempt",
            "success",
            "exit_code",
            "status_code",
            "duration_ms",
            "error",
        ],
    ),
    "webhook_disabled": (
        "Webhook disabled",
        "An outgoing webhook was switched off: its receiver answered 410 Gone, or too many "
        "deliveries in a row failed (operational event).",
        ["webhook_id", "name", "reason", "consecutive_failures", "status_code"],
    ),
}

BUILTIN_EVENT_NAMES: frozenset[str] = frozenset(_BUILTIN_EVENTS)

EVENT_CATALOG: dict[str, dict[str, Any]] = {}

_PLUGIN_EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_KEY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _entry(name: str, label: str, description: str, keys: list[str], source: str) -> dict[str, Any]:
    return {
        "signal": sublarr_signals.signal(name, doc=description),
        "label": label,
        "description": description,
        "payload_keys": list(keys),
        "key_set": frozenset(keys),
        "source": source,
    }


def reset_catalog() -> None:
    """Restore the catalog to the built-in events only."""
    EVENT_CATALOG.clear()
    for name, (label, description, keys) in _BUILTIN_EVENTS.items():
        EVENT_CATALOG[name] = _entry(name, label, description, keys, "sublarr")


def register_event(
    name: str,
    label: str,
    description: str,
    payload_keys: list[str] | tuple[str, ...],
    *,
    source: str = "plugin",
) -> dict[str, Any]:
    """Add a plugin event to the catalog and return its entry.

    ``name`` must be dotted (``myplugin.thing_happened``). Registering the same event again
    with the same keys is a no-op; anything else that clashes raises
    ``EventRegistrationError``.
    """
    from sublarr.core.events.validation import forbidden_key

    if not isinstance(name, str) or not _PLUGIN_EVENT_NAME.match(name):
        raise EventRegistrationError(
            f"event name {name!r} must be namespaced, lower case, like 'myplugin.thing_happened'"
        )
    if not isinstance(label, str) or not label.strip():
        raise EventRegistrationError(f"event {name!r}: label must be a non-empty string")
    if not isinstance(description, str):
        raise EventRegistrationError(f"event {name!r}: description must be a string")
    if isinstance(payload_keys, str) or not isinstance(payload_keys, (list, tuple)):
        raise EventRegistrationError(f"event {name!r}: payload_keys must be a list of strings")
    keys = list(payload_keys)
    for key in keys:
        if not isinstance(key, str) or not _KEY_NAME.match(key):
            raise EventRegistrationError(f"event {name!r}: invalid payload key {key!r}")
        if forbidden_key(key):
            raise EventRegistrationError(
                f"event {name!r}: payload key {key!r} looks like a credential; payloads never carry secrets"
            )
    existing = EVENT_CATALOG.get(name)
    if existing is not None:
        if existing["payload_keys"] == keys and existing["source"] == source:
            return existing
        raise EventRegistrationError(f"event {name!r} is already registered by {existing['source']!r}")
    entry = _entry(name, label, description, keys, source)
    EVENT_CATALOG[name] = entry
    return entry


def describe_catalog() -> dict[str, Any]:
    """The catalog as JSON-ready data: version and one record per event (no signals)."""
    return {
        "version": CATALOG_VERSION,
        "events": [
            {
                "name": name,
                "label": entry["label"],
                "description": entry["description"],
                "payload_keys": list(entry["payload_keys"]),
                "source": entry["source"],
            }
            for name, entry in EVENT_CATALOG.items()
        ],
    }


reset_catalog()
