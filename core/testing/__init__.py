"""Testing helpers: the pytest plugin (entry point ``pytest11``), a real webhook receiver,
and the switches tests use to swap the current plugin manager."""

from __future__ import annotations

from sublarr.core.plugin_manager import reset_plugin_manager, set_plugin_manager
from sublarr.core.testing.pytest_plugin import EventRecorder, RecordedEvent
from sublarr.core.testing.receiver import WebhookReceiver

__all__ = ["EventRecorder", "RecordedEvent", "WebhookReceiver", "reset_plugin_manager", "set_plugin_manager"]
