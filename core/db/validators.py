"""Input checks shared by the CRUD modules; each raises ``ValidationError`` naming the field.

Every check runs before anything is written, so a refused call leaves the database unchanged.
Types are checked strictly: ``True`` is not an int here, and ``"5"`` is not one either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from sublarr.core.errors import ValidationError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_int(field: str, value: Any, low: int, high: int) -> int:
    """``value`` as an int within ``low..high`` (bool refused)."""
    if type(value) is not int:
        raise ValidationError(field, f"must be an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValidationError(field, f"must be between {low} and {high}, got {value}")
    return value


def check_optional_int(field: str, value: Any, low: int, high: int) -> int | None:
    """``None`` or an int within ``low..high``."""
    return None if value is None else check_int(field, value, low, high)


def check_id(field: str, value: Any) -> int:
    """A record id: a positive int."""
    return check_int(field, value, 1, 2**63 - 1)


def check_optional_id(field: str, value: Any) -> int | None:
    """``None`` or a record id."""
    return None if value is None else check_id(field, value)


def check_bool(field: str, value: Any) -> bool:
    """A real bool; the ints 0 and 1 are accepted too, as the columns store them."""
    if type(value) is bool:
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    raise ValidationError(field, f"must be true or false, got {value!r}")


def check_str(field: str, value: Any, max_len: int, *, allow_empty: bool = True) -> str:
    """A str of at most ``max_len`` characters."""
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise ValidationError(field, "must not be empty")
    if len(value) > max_len:
        raise ValidationError(field, f"must be at most {max_len} characters, got {len(value)}")
    return value


def check_name(field: str, value: Any, max_len: int) -> str:
    """A display name: non-empty, at most ``max_len`` characters, no control characters.

    Returned with surrounding whitespace stripped.
    """
    text = check_str(field, value, max_len, allow_empty=False)
    if _CONTROL.search(text):
        raise ValidationError(field, "must not contain control characters")
    return text.strip()


def check_pattern(field: str, value: Any, max_len: int, pattern: re.Pattern[str], what: str) -> str:
    """A non-empty str of at most ``max_len`` characters matching ``pattern``."""
    text = check_str(field, value, max_len, allow_empty=False)
    if not pattern.fullmatch(text):
        raise ValidationError(field, f"{text!r} is not valid: {what}")
    return text


def check_event_name(field: str, value: Any, *, allow_wildcard: bool) -> str:
    """An event name in ``EVENT_CATALOG`` as it is now (or ``*`` when allowed)."""
    from sublarr.core.events import catalog as event_catalog

    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, got {type(value).__name__}")
    if allow_wildcard and value == "*":
        return value
    if value not in event_catalog.EVENT_CATALOG:
        extra = " or '*' for every event" if allow_wildcard else ""
        raise ValidationError(
            field, f"unknown event {value!r}: must be an event of the catalog{extra} (see `sublarr events`)"
        )
    return value


def check_http_url(field: str, value: Any, max_len: int) -> str:
    """An absolute ``http://`` or ``https://`` URL with a host."""
    url = check_str(field, value, max_len, allow_empty=False)
    if _CONTROL.search(url) or any(ch.isspace() for ch in url):
        raise ValidationError(field, "must not contain whitespace or control characters")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise ValidationError(field, f"{url!r} is not a valid URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValidationError(field, f"must be an http:// or https:// URL, got scheme {parts.scheme!r}")
    if not parts.hostname:
        raise ValidationError(field, f"{url!r} has no host")
    return url


def check_fields(kind: str, fields: Iterable[str], allowed: frozenset[str]) -> None:
    """Refuse any field name not in ``allowed``."""
    for name in fields:
        if name not in allowed:
            raise ValidationError(
                name, f"is not an updatable field of a {kind}; allowed: {', '.join(sorted(allowed))}"
            )


def check_page(limit: Any, offset: Any, *, max_limit: int, allow_none: bool) -> tuple[int | None, int]:
    """``limit`` (``None`` = no limit, when allowed) and ``offset`` for a listing."""
    checked_limit = None if limit is None and allow_none else check_int("limit", limit, 0, max_limit)
    return checked_limit, check_int("offset", offset, 0, 2**62)
