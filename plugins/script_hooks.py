"""Built-in plugin: script hooks.

On every event, each enabled script hook subscribed to it gets a delivery queued in the
durable ``deliveries`` table; the worker pool (``sublarr.core.delivery.worker_pool``) runs
the script from the hooks directory with the event in its environment and on stdin.
``emit_event`` never waits for a script.
"""

from __future__ import annotations

from typing import Any

from sublarr.core import hookimpl
from sublarr.core.delivery import enqueue_event


class ScriptHooksPlugin:
    """Queues one script run per subscribed hook."""

    @hookimpl
    def on_event(self, event_name: str, payload: dict[str, Any], event_id: str, timestamp: str) -> None:
        enqueue_event("script", event_name, payload, event_id, timestamp)


script_hooks = ScriptHooksPlugin()
