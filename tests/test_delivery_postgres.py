"""The delivery queue on PostgreSQL: SKIP LOCKED claims hand each row to one pool only.

Runs when ``SUBLARR_TEST_POSTGRES_URL`` is set (``make test`` starts a throwaway server in
CI); each test works in a new schema it drops afterwards.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest

from sublarr.core import emit_event

POSTGRES_URL = os.environ.get("SUBLARR_TEST_POSTGRES_URL", "")  # read before the autouse fixture clears it


@pytest.fixture
def postgres_db():
    """The current database is a fresh schema on the test PostgreSQL server."""
    if not POSTGRES_URL:
        pytest.skip("POSTGRESQL NOT TESTED: set SUBLARR_TEST_POSTGRES_URL to run the delivery queue on it")
    pytest.importorskip("psycopg")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from sublarr.core.db import dispose_db, init_db

    schema = f"sublarr_dlv_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    dispose_db()
    engine = init_db(url.render_as_string(hide_password=False))
    assert engine.dialect.name == "postgresql"
    try:
        yield engine
    finally:
        dispose_db()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


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
