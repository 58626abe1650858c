"""Testing helpers: the pytest plugin (entry point ``pytest11``) and a real webhook receiver."""

from __future__ import annotations

from sublarr.core.testing.pytest_plugin import EventRecorder, RecordedEvent
from sublarr.core.testing.receiver import WebhookReceiver

__all__ = ["EventRecorder", "RecordedEvent", "WebhookReceiver"]
