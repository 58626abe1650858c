"""Built-in plugin: notifications people read, through Apprise (Discord, Telegram, ntfy, e-mail...).

On every event, each enabled notification target subscribed to it (by name, or ``*`` for
every event but ``hook_executed``) whose filters the payload passes gets a delivery queued
in the durable ``deliveries`` table; the worker pool renders its title and body templates
and sends it through Apprise, with retries, like a webhook. Targets are managed through
``/api/v1/notifications`` and ``sublarr notifications``.
"""

from __future__ import annotations

from typing import Any

from sublarr.core import hookimpl
from sublarr.core.delivery import enqueue_event


class NotificationsPlugin:
    """Queues one notification delivery per subscribed notification target."""

    @hookimpl
    def on_event(self, event_name: str, payload: dict[str, Any], event_id: str, timestamp: str) -> None:
        enqueue_event("notification", event_name, payload, event_id, timestamp)


notifications = NotificationsPlugin()
