"""Test fire: run one hook or webhook now with a sample payload, like Sonarr's Test button.

``test_hook(hook_id)`` / ``test_webhook(webhook_id)`` run one attempt at once in the
calling thread (no queue, no retry), as event type ``test`` with a sample payload of the
hook's event, write it to ``hook_log`` (event name ``test``) and return the
``DeliveryResult``. Trigger statistics, failure counts and auto-disable are left alone,
and no ``hook_executed`` event is emitted. Disabled hooks and webhooks can be tested too.
"""

from __future__ import annotations

import json
from typing import Any

from sublarr.core.delivery import admin
from sublarr.core.delivery.admin import TargetKind
from sublarr.core.delivery.executor import DeliveryExecutor, DeliveryResult
from sublarr.core.delivery.url_policy import UrlPolicy
from sublarr.core.delivery.webhook_sender import WebhookSender
from sublarr.core.settings import Settings, current_settings

__all__ = ["fire_target", "sample_payload", "test_hook", "test_webhook"]

_SAMPLES: dict[str, Any] = {
    "media_type": "episode",
    "title": "Sublarr Test",
    "series_title": "Sublarr Test Series",
    "season": 1,
    "episode": 1,
    "year": 2024,
    "language": "en",
    "source_language": "en",
    "target_language": "de",
    "provider_name": "test",
    "providers": ["test"],
    "score": 350,
    "best_score": 350,
    "old_score": 300,
    "new_score": 350,
    "format": "srt",
    "hearing_impaired": False,
    "relative_path": "Sublarr Test Series/Season 01/Sublarr Test Series - S01E01.en.srt",
    "backend": "test",
    "model": "test",
    "error": "this is a test",
    "status": "found",
    "source": "sonarr",
    "event_type": "Test",
    "section": "test",
    "keys": ["test"],
    "batch_id": "test",
    "batch_type": "search",
}


def sample_payload(event_name: str) -> dict[str, Any]:
    """A payload with every key of ``event_name`` filled with a plausible test value."""
    from sublarr.core.events.catalog import EVENT_CATALOG

    entry = EVENT_CATALOG.get(event_name) or EVENT_CATALOG["subtitle_downloaded"]
    payload: dict[str, Any] = {}
    for key in entry["payload_keys"]:
        if key in _SAMPLES:
            payload[key] = _SAMPLES[key]
        elif key.endswith(("_count", "_items", "total", "succeeded", "failed", "_id")):
            payload[key] = 1
        elif key.startswith("duration"):
            payload[key] = 1.5
        else:
            payload[key] = f"test {key}"
    return payload


def _executor(settings: Settings | None) -> tuple[DeliveryExecutor, WebhookSender | None]:
    from sublarr.core.delivery.worker_pool import get_current_pool

    pool = get_current_pool()
    if settings is None and pool is not None and pool.started:
        return pool.executor, None
    settings = settings if settings is not None else current_settings()
    sender = WebhookSender(UrlPolicy.from_strings(settings.webhook_deny_networks), max_connections=1)
    return DeliveryExecutor(settings, sender), sender


def _sample_event(target: dict[str, Any]) -> str:
    """The event a sample payload is made for: the target's, or a notification target's first."""
    if "event_name" in target:
        return str(target["event_name"])
    events = [name for name in json.loads(target.get("events") or "[]") if name != "*"]
    return events[0] if events else "*"


def fire_target(kind: TargetKind, target_id: int, *, settings: Settings | None = None) -> DeliveryResult:
    """Run hook or webhook ``target_id`` of ``kind`` once now with a sample payload."""
    target = admin.get(kind, target_id)
    executor, own_sender = _executor(settings)
    try:
        return executor.run_test(kind.kind, target, sample_payload(_sample_event(target)))
    finally:
        if own_sender is not None:
            own_sender.close()


def test_hook(hook_id: int, *, settings: Settings | None = None) -> DeliveryResult:
    """Run script hook ``hook_id`` once now with a sample payload; ``NotFoundError`` if absent."""
    return fire_target(admin.HOOK, hook_id, settings=settings)


def test_webhook(webhook_id: int, *, settings: Settings | None = None) -> DeliveryResult:
    """Send webhook ``webhook_id`` once now with a sample payload; ``NotFoundError`` if absent."""
    return fire_target(admin.WEBHOOK, webhook_id, settings=settings)


# Not pytest tests, whatever their names say (an attribute pytest reads; functions declare none).
test_hook.__test__ = False  # type: ignore[attr-defined]
test_webhook.__test__ = False  # type: ignore[attr-defined]
