"""`sublarr worker` processes sharing PostgreSQL's delivery queue with a `serve --no-workers`.

Every delivery reaches the real webhook receiver once; after a kill -9 of one worker the
others take its claims over (lease) and the only repeats are its in-flight rows, with the
same id; trigger counters stay exact. Runs when ``SUBLARR_TEST_POSTGRES_URL`` is set.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from test_multiprocess_events import start, start_serve, stop

from conftest import run_sublarr

WEBHOOKS = 10
EVENTS = 200  # x WEBHOOKS = 2,000 deliveries
WORKER_PROCESSES = 3
THREADS_PER_WORKER = 4
LEASE = 2.0


@pytest.fixture
def pg_queue(postgres_url, plugin_manager, webhook_receiver, tmp_path):
    """A migrated PostgreSQL schema with WEBHOOKS webhooks to the receiver; the env of the processes."""
    from sublarr.core.db import init_db
    from sublarr.core.delivery import add_webhook

    init_db(postgres_url)
    ids = [add_webhook(f"w{n}", "batch_complete", webhook_receiver.url)["id"] for n in range(WEBHOOKS)]
    env = {
        "SUBLARR_DATABASE_URL": postgres_url,
        "SUBLARR_DELIVERY_POLL_INTERVAL": "0.1",
        "SUBLARR_DELIVERY_LEASE": str(LEASE),
        "SUBLARR_DELIVERY_WORKERS": str(THREADS_PER_WORKER),
        "SUBLARR_WEBHOOK_RETRY_BASE": "0.05",
    }
    return env, ids


def _start_workers(env: dict[str, str], count: int) -> list:
    return [start(["worker"], env, ready="sublarr worker running")[0] for _ in range(count)]


def _emit_through_api(server, count: int) -> None:
    def fire(n: int) -> None:
        answer = server.api("POST", "/events/batch_complete/emit", json={"batch_id": str(n)})
        assert answer.status_code == 202, answer.text

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(fire, range(count)))


def _queued_ids() -> set[str]:
    from sqlalchemy import text

    from sublarr.core.db import get_engine

    with get_engine().connect() as conn:
        return {row[0] for row in conn.execute(text("SELECT id FROM deliveries"))}


def _trigger_counts() -> list[int]:
    from sqlalchemy import text

    from sublarr.core.db import get_engine

    with get_engine().connect() as conn:
        return [row[0] for row in conn.execute(text("SELECT trigger_count FROM webhook_configs ORDER BY id"))]


def test_three_workers_deliver_every_event_once(pg_queue, webhook_receiver, tmp_path):
    env, _ = pg_queue
    server = start_serve(tmp_path / "serve", env, "--no-workers")
    workers = _start_workers(env, WORKER_PROCESSES)
    try:
        assert any("--no-workers" in line for line in server.banner)
        started = time.monotonic()
        _emit_through_api(server, EVENTS)
        total = EVENTS * WEBHOOKS
        webhook_receiver.wait_for(total, timeout=60)
        elapsed = time.monotonic() - started
        time.sleep(0.5)  # a second delivery of anything would land by now
        counts = Counter(r.webhook_id for r in webhook_receiver.requests)
        assert len(webhook_receiver.requests) == total, f"{len(webhook_receiver.requests) - total} repeats"
        assert set(counts) == _queued_ids()
        assert max(counts.values()) == 1
        assert _trigger_counts() == [EVENTS] * WEBHOOKS  # exact with 3 processes updating them
        print(f"{total} deliveries by {WORKER_PROCESSES} worker processes in {elapsed:.1f} s")
    finally:
        for process in workers:
            stop(process)
        stop(server.process)
    # The server delivered nothing itself: no pool started in it.
    assert not any("delivery pool" in line for line in server.output)


def test_a_killed_worker_is_taken_over_after_its_lease(pg_queue, webhook_receiver, tmp_path):
    env, _ = pg_queue
    webhook_receiver.respond(delay=0.02)  # deliveries in flight when the worker dies
    server = start_serve(tmp_path / "serve", env, "--no-workers")
    workers = _start_workers(env, WORKER_PROCESSES)
    try:
        _emit_through_api(server, EVENTS)
        total = EVENTS * WEBHOOKS
        webhook_receiver.wait_for(total // 4, timeout=60)
        victim = workers[0]
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(10)
        webhook_receiver.wait_for(total, timeout=60 + LEASE)
        time.sleep(LEASE + 1)  # let any late takeover land
        counts = Counter(r.webhook_id for r in webhook_receiver.requests)
        assert set(counts) == _queued_ids()  # every delivery arrived
        repeats = {delivery_id: n for delivery_id, n in counts.items() if n > 1}
        # Only what the killed pool held (claimed: at most 2 per thread) can arrive twice.
        assert len(repeats) <= 2 * THREADS_PER_WORKER, repeats
        assert all(n == 2 for n in repeats.values()), repeats
        # Every delivery ends delivered, the counters count each attempt that was made.
        assert sum(_trigger_counts()) >= EVENTS * WEBHOOKS
    finally:
        for process in workers:
            stop(process)
        stop(server.process)


def test_worker_refuses_bad_settings():
    done = run_sublarr("worker", env={"SUBLARR_DELIVERY_WORKERS": "many"})
    assert done.returncode == 1
    assert done.stderr.startswith("Error: SUBLARR_DELIVERY_WORKERS"), done.stderr
    assert "Traceback" not in done.stderr


def test_worker_drains_on_sigterm(tmp_path):
    process, output = start(
        ["--data-dir", str(tmp_path), "worker", "--workers", "2"], {}, ready="worker running"
    )
    process.send_signal(signal.SIGTERM)
    assert process.wait(20) == 0
    time.sleep(0.1)
    assert "sublarr worker stopped." in output
    assert any("2 delivery workers" in line for line in output)
