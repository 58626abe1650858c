"""Built-in plugin: signed outgoing webhooks.

On every event, each enabled webhook subscribed to it (by name, or ``*`` for every event
but ``hook_executed``) gets a delivery queued in the durable ``deliveries`` table; the
worker pool (``sublarr.core.delivery.worker_pool``) sends it, signed the Standard Webhooks
way, with retries. ``emit_event`` never waits for a request.
"""

from __future__ import annotations

from typing import Any

from sublarr.core import hookimpl
from sublarr.core.delivery import enqueue_event


class WebhooksPlugin:
    """Queues one webhook delivery per subscribed webhook."""

    @hookimpl
    def on_event(self, event_name: str, payload: dict[str, Any], event_id: str, timestamp: str) -> None:
        enqueue_event("webhook", event_name, payload, event_id, timestamp)


webhooks = WebhooksPlugin()
