"""Notification targets (Apprise): adding, changing, listing, removing and testing them.

A notification target is the third kind of delivery target (``TargetKind``
``NOTIFICATION``, delivery kind ``notification``) next to script hooks and webhooks: its
deliveries go through the same durable queue, retries (``retry_count``), log
(``hook_log`` rows with ``hook_type`` ``notification`` and ``notification_id``),
auto-disable (``SUBLARR_WEBHOOK_FAILURE_THRESHOLD`` failed deliveries in a row) and
``hook_executed`` events.

Fields: ``name``; ``url`` (an Apprise URL: a credential, shown as ``scheme://****``
everywhere; sending that mask back keeps the stored URL); ``events`` (a list of event
names, or ``["*"]`` for every event but ``hook_executed``); ``title_template`` and
``body_template`` (Jinja2, ``delivery.templates``; empty: the event's label and a
summary of the payload); ``filters`` (``delivery.filters``); ``retry_count``;
``timeout_seconds``; ``enabled`` (re-enabling clears the failure count and
``disabled_reason``). Templates and filters are checked against the payload keys of the
target's events when saved and again when its events change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sublarr.core.db import hooks as storage
from sublarr.core.delivery import admin
from sublarr.core.delivery.executor import DeliveryResult
from sublarr.core.delivery.filters import check_filters, dumps, loads
from sublarr.core.delivery.notification_sender import URL_MASK, check_apprise_url, mask_apprise_url
from sublarr.core.delivery.templates import check_template
from sublarr.core.delivery.url_policy import UrlRefusedError
from sublarr.core.errors import ValidationError
from sublarr.core.settings import Settings, current_settings

MAX_EVENTS = 100
TEMPLATE_FIELDS = ("title_template", "body_template")


def check_events(events: Any) -> list[str]:
    """``events`` as stored: a non-empty list of distinct catalog event names, or ``["*"]``."""
    from sublarr.core.events.catalog import EVENT_CATALOG

    if isinstance(events, str):
        events = [events]
    if not isinstance(events, (list, tuple)) or not events or len(events) > MAX_EVENTS:
        raise ValidationError("events", f"must be a list of 1-{MAX_EVENTS} event names, or ['*']")
    names: list[str] = []
    for name in events:
        if name != storage.WILDCARD_EVENT and (not isinstance(name, str) or name not in EVENT_CATALOG):
            raise ValidationError("events", f"{name!r} is not an event of the catalog (or *)")
        if name not in names:
            names.append(name)
    if storage.WILDCARD_EVENT in names and len(names) > 1:
        raise ValidationError("events", "'*' already means every event: give it alone")
    return names


def _prepare(fields: dict[str, Any], settings: Settings | None) -> dict[str, Any]:
    """Check ``fields`` in place (events, URL, templates, filters as stored); no options."""
    events = check_events(fields["events"]) if "events" in fields else None
    if events is not None:
        fields["events"] = json.dumps(events)
    if "url" in fields:
        deny = (settings if settings is not None else current_settings()).webhook_deny_networks
        check_apprise_url(fields["url"], deny)
    for name in TEMPLATE_FIELDS:
        if fields.get(name):
            check_template(fields[name], events, field=name)
    if "filters" in fields:
        fields["filters"] = dumps(check_filters(fields["filters"], events or storage.WILDCARD_EVENT))
    return {}


def _restore(stored: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """An update's fields: the masked URL sent back keeps the stored one; what the checks need."""
    fields = dict(fields)
    url = fields.get("url")
    if isinstance(url, str) and URL_MASK in url:
        if url != mask_apprise_url(stored["url"]):
            raise ValidationError(
                "url", "a masked URL (****) keeps the stored one only as shown: give it whole"
            )
        del fields["url"]
    stored_events = json.loads(stored["events"])
    if "events" in fields and fields["events"] != stored_events:
        for name in TEMPLATE_FIELDS:
            if name not in fields and stored.get(name):
                fields[name] = stored[name]
        if "filters" not in fields and loads(stored.get("filters")):
            fields["filters"] = loads(stored["filters"])
    elif {"filters", *TEMPLATE_FIELDS} & set(fields):
        fields["events"] = stored_events
    if fields.get("enabled") in (True, 1):
        fields.update(consecutive_failures=0, disabled_reason="")
    return fields


def public_notification(record: dict[str, Any]) -> dict[str, Any]:
    """A notification target fit to show: URL masked, events and filters as lists."""
    shown = dict(record)
    shown["url"] = mask_apprise_url(record.get("url"))
    shown["events"] = json.loads(record.get("events") or "[]")
    shown["filters"] = loads(record.get("filters"))
    return shown


NOTIFICATION = admin.TargetKind(
    storage.NOTIFICATIONS,
    _prepare,
    public_notification,
    UrlRefusedError,
    "url",
    create_defaults={"events": [storage.WILDCARD_EVENT]},
    restore=_restore,
)


def add_notification(
    name: str,
    url: str,
    events: Sequence[str] = (storage.WILDCARD_EVENT,),
    *,
    settings: Settings | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Store a notification target after the checks; return it fit to show (URL masked)."""
    record = admin.add(NOTIFICATION, settings=settings, name=name, url=url, events=list(events), **fields)
    return public_notification(record)


def get_notification(notification_id: int) -> dict[str, Any]:
    """A notification target fit to show; ``NotFoundError``."""
    return public_notification(admin.get(NOTIFICATION, notification_id))


def update_notification(
    notification_id: int, *, settings: Settings | None = None, **fields: Any
) -> dict[str, Any]:
    """Change fields of a notification target; return it fit to show."""
    return public_notification(admin.update(NOTIFICATION, notification_id, settings=settings, **fields))


def list_notifications() -> list[dict[str, Any]]:
    """Every notification target, in id order, fit to show."""
    return admin.list_targets(NOTIFICATION)


def remove_notification(notification_id: int) -> None:
    """Delete a notification target; its queued deliveries are skipped, its log kept."""
    admin.remove(NOTIFICATION, notification_id)


def test_notification(notification_id: int, *, settings: Settings | None = None) -> DeliveryResult:
    """Send notification target ``notification_id`` once now with a sample payload (logged, no stats)."""
    from sublarr.core.delivery.fire import fire_target

    return fire_target(NOTIFICATION, notification_id, settings=settings)


test_notification.__test__ = False  # type: ignore[attr-defined]
