"""Putting an event's deliveries on the durable queue, and waking the worker pools.

``enqueue_event`` is what the script-hook and webhook plugins call from ``on_event``
(exported as ``sublarr.core.delivery.enqueue_event``): it writes one ``deliveries`` row
per subscribed hook or webhook in one transaction and returns at once; running them is
the worker pool's job. Pools in this process are woken immediately; pools in other
processes find the rows within their poll interval. When the rows cannot be stored (a full
disk, a damaged database), it raises ``EventNotStoredError``: ``emit_event`` raises it to
its caller once every other receiver and plugin saw the event.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sublarr.core.delivery import subscriptions
from sublarr.core.delivery.filters import apply_filters, log_filtered
from sublarr.core.delivery.store import describe_storage_failure, enqueue_deliveries
from sublarr.core.errors import EventNotStoredError

logger = logging.getLogger(__name__)

_KIND_INDEX = {"script": 0, "webhook": 1}  # where subscriptions.lookup puts the ids of each kind

_wakers: list[Callable[[], None]] = []
_wakers_lock = threading.Lock()


def add_waker(callback: Callable[[], None]) -> None:
    """Call ``callback`` whenever deliveries are queued in this process."""
    with _wakers_lock:
        _wakers.append(callback)


def remove_waker(callback: Callable[[], None]) -> None:
    """Stop calling ``callback``."""
    with _wakers_lock:
        if callback in _wakers:
            _wakers.remove(callback)


def wake_pools() -> None:
    """Tell the pools of this process there is new work."""
    for callback in list(_wakers):
        callback()


def enqueue_event(
    kind: str, event_name: str, payload: dict[str, Any], event_id: str, timestamp: str
) -> list[str]:
    """Queue a delivery of the event to each enabled target of ``kind`` subscribed to it; return the ids.

    ``kind`` is ``script`` (script hooks), ``webhook`` or ``notification``. A webhook or
    notification target whose filters the payload fails gets no delivery, a ``filtered``
    log row instead (``delivery.filters``). The arguments after it are those
    of ``on_event``: this is what the ``script_hooks`` and ``webhooks`` plugins call.
    Raises ``EventNotStoredError`` when the subscriptions cannot be read or the deliveries
    cannot be written; nothing of this call is queued then.
    """
    filtered: list[tuple[int, str]] = []
    target_ids: Sequence[int]
    try:
        if kind == "notification":
            target_ids = subscriptions.notifications(event_name)
        else:
            target_ids = subscriptions.lookup(event_name)[_KIND_INDEX[kind]]
        if not target_ids:
            return []
        if kind != "script" and (tests := subscriptions.filters(kind)):
            target_ids, filtered = apply_filters(tests, target_ids, payload)
            if not target_ids:
                log_filtered(kind, event_name, filtered)
                return []
        payload_json = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        ids = enqueue_deliveries(
            [(kind, target_id) for target_id in target_ids], event_name, event_id, timestamp, payload_json
        )
    except Exception as exc:
        logger.error(
            "the %s deliveries of event %s (%s) could not be stored: %s",
            kind,
            event_name,
            event_id,
            getattr(exc, "orig", None) or repr(exc),
        )
        raise EventNotStoredError(event_name, event_id, describe_storage_failure(exc)) from exc
    wake_pools()
    if filtered:
        log_filtered(kind, event_name, filtered)
    return ids
