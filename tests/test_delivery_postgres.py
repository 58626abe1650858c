"""The delivery queue on PostgreSQL: SKIP LOCKED claims hand each row to one pool only.

Runs when ``SUBLARR_TEST_POSTGRES_URL`` is set (``make test`` starts a throwaway server in
CI); each test works in a new schema it drops afterwards.
"""

from __future__ import annotations

import threading
import time

import pytest

from sublarr.core import emit_event


@pytest.fixture
def postgres_db(postgres_url):
    """The current database is a fresh schema on the test PostgreSQL server."""
    from sublarr.core.db import init_db

    engine = init_db(postgres_url)
    assert engine.dialect.name == "postgresql"
    return engine


def test_concurrent_claims_skip_locked_rows(postgres_db):
    from sublarr.core.delivery import add_webhook
    from sublarr.core.delivery import store as deliveries

    hook = add_webhook("pg", "config_updated", "http://127.0.0.1:9/")
    deliveries.enqueue_deliveries([("webhook", hook["id"])] * 300, "config_updated", "e", "t", "{}")
    claimed: list[str] = []
    lock = threading.Lock()

    def claim(owner: str) -> None:
        while rows := deliveries.claim_deliveries(owner, 9, 60):
            assert len(rows) <= 9  # never more than asked for
            with lock:
                claimed.extend(r["id"] for r in rows)

    threads = [threading.Thread(target=claim, args=(f"h:{n}:x",)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == len(set(claimed)) == 300
    assert deliveries.count_deliveries() == {"running": 300}
    assert deliveries.release_owner("h:0:x") > 0


def test_two_pools_deliver_each_event_once(postgres_db, plugin_manager, webhook_receiver):
    from sublarr.core.delivery import add_webhook
    from sublarr.core.delivery.worker_pool import WorkerPool
    from sublarr.core.settings import load_settings

    hook = add_webhook("pg", "batch_complete", webhook_receiver.url)
    webhook_receiver.secret = hook["secret"]
    webhook_receiver.respond(delay=0.05)  # slow enough that both pools get work
    for n in range(40):
        emit_event("batch_complete", {"batch_id": str(n)})
    settings = load_settings({"SUBLARR_DELIVERY_POLL_INTERVAL": "0.1"})
    with WorkerPool(settings, workers=3) as one, WorkerPool(settings, workers=3) as two:
        webhook_receiver.wait_for(40)
        time.sleep(0.2)
        assert one.wait_idle(5) and two.wait_idle(5)
        assert one.completed > 0 and two.completed > 0
    assert len(webhook_receiver.requests) == len(webhook_receiver.ids()) == 40
    assert all(r.verified for r in webhook_receiver.requests)
