"""The durable delivery pipeline for script hooks and webhooks.

Public API (see each module for details)::

    from sublarr.core.delivery import (
        WorkerPool, start_pool, stop_pool, get_current_pool, set_current_pool,  # worker_pool
        test_hook, test_webhook, sample_payload,                                # fire
        add_hook, add_webhook, update_hook, update_webhook, remove_hook,       # admin
        remove_webhook, list_hooks, list_webhooks, get_webhook,
        public_hook, public_webhook, DeliveryResult,
        enqueue_event,                                                          # enqueue
    )

``emit_event`` queues deliveries through the ``script_hooks`` and ``webhooks`` built-in
plugins, which call ``enqueue_event``; a started ``WorkerPool`` runs them.
"""

from __future__ import annotations

from sublarr.core.delivery.admin import (
    add_hook,
    add_webhook,
    get_webhook,
    list_hooks,
    list_webhooks,
    public_hook,
    public_webhook,
    remove_hook,
    remove_webhook,
    update_hook,
    update_webhook,
)
from sublarr.core.delivery.enqueue import enqueue_event
from sublarr.core.delivery.executor import DeliveryResult
from sublarr.core.delivery.fire import sample_payload, test_hook, test_webhook
from sublarr.core.delivery.script_runner import ScriptRefusedError
from sublarr.core.delivery.signing import SignatureError, generate_secret, mask_secret
from sublarr.core.delivery.url_policy import UrlRefusedError
from sublarr.core.delivery.worker_pool import (
    WorkerPool,
    get_current_pool,
    set_current_pool,
    start_pool,
    stop_pool,
)

__all__ = [
    "DeliveryResult",
    "ScriptRefusedError",
    "SignatureError",
    "UrlRefusedError",
    "WorkerPool",
    "add_hook",
    "add_webhook",
    "enqueue_event",
    "generate_secret",
    "get_current_pool",
    "get_webhook",
    "list_hooks",
    "list_webhooks",
    "mask_secret",
    "public_hook",
    "public_webhook",
    "remove_hook",
    "remove_webhook",
    "sample_payload",
    "set_current_pool",
    "start_pool",
    "stop_pool",
    "test_hook",
    "test_webhook",
    "update_hook",
    "update_webhook",
]
