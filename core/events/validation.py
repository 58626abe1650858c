"""Checks an event payload against the catalog before anyone sees it.

A payload is a dict whose keys are the event's ``payload_keys``; values are JSON data
(None, bool, int, finite float, str, list, dict with string keys). Credentials
(keys such as ``api_key``, ``password``, ``token``) and absolute filesystem paths are
refused anywhere in the payload, nested values included.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from sublarr.core.errors import InvalidPayloadError

MAX_DEPTH = 32

_FORBIDDEN_KEY = re.compile(
    r"(api[_-]?key|password|passwd|secret|token|credential|authorization|cookie|private[_-]?key)",
    re.IGNORECASE,
)
_WINDOWS_ABSOLUTE = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")


def forbidden_key(key: str) -> bool:
    """True when ``key`` names a credential that must never travel in a payload."""
    return _FORBIDDEN_KEY.search(key) is not None


def is_absolute_path(value: str) -> bool:
    """True for POSIX (``/x``), home (``~/x``), Windows drive (``C:\\x``) and UNC paths."""
    return value.startswith(("/", "~/")) or _WINDOWS_ABSOLUTE.match(value) is not None


def _check_value(event: str, key: str, value: Any, depth: int) -> None:
    if value is None or isinstance(value, (bool, int)):
        return
    if isinstance(value, str):
        if is_absolute_path(value):
            raise InvalidPayloadError(
                event, key, "absolute filesystem paths are not allowed; send a relative path"
            )
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidPayloadError(event, key, f"{value!r} is not JSON-serialisable")
        return
    if depth >= MAX_DEPTH:
        raise InvalidPayloadError(event, key, f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_value(event, key, item, depth + 1)
        return
    if isinstance(value, Mapping):
        for sub_key, item in value.items():
            if not isinstance(sub_key, str):
                raise InvalidPayloadError(
                    event, key, f"nested key {sub_key!r} is not a string (not JSON-serialisable)"
                )
            if forbidden_key(sub_key):
                raise InvalidPayloadError(
                    event, f"{key}.{sub_key}", "credentials are never allowed in payloads"
                )
            _check_value(event, f"{key}.{sub_key}", item, depth + 1)
        return
    raise InvalidPayloadError(event, key, f"value of type {type(value).__name__} is not JSON-serialisable")


_PATH_START = frozenset("/~\\")
# Top-level keys holding names people give things: a title is not a path, even one that
# starts with "/" (a show may be called "/Dev/Null"), so the path check skips them.
TEXT_KEYS = frozenset({"title", "series_title"})


def validate_payload(
    event: str, payload_keys: list[str], allowed: frozenset[str] | set[str], data: Any
) -> dict[str, Any]:
    """Return a new payload dict with every key of the event (missing ones ``None``).

    Raises ``InvalidPayloadError`` naming the offending key.
    """
    if data is None:
        return dict.fromkeys(payload_keys)
    if not isinstance(data, Mapping):
        raise InvalidPayloadError(event, None, f"must be a dict, got {type(data).__name__}")
    for key, value in data.items():
        if key not in allowed:
            if not isinstance(key, str):
                raise InvalidPayloadError(event, repr(key), "payload keys must be strings")
            if forbidden_key(key):
                raise InvalidPayloadError(event, key, "credentials are never allowed in payloads")
            raise InvalidPayloadError(
                event, key, f"not a payload key of this event (allowed: {', '.join(payload_keys)})"
            )
        kind = type(value)
        if kind is str:
            # fast path: only strings that could be absolute paths get the full check
            if value and (value[0] in _PATH_START or value[1:2] == ":") and key not in TEXT_KEYS:
                _check_value(event, key, value, 0)
        elif kind is not int and value is not None and kind is not bool:
            _check_value(event, key, value, 0)
    payload = dict.fromkeys(payload_keys)
    payload.update(data)
    return payload
