"""The durable pipeline: nothing lost across kill -9, leases, graceful stop, bounded memory, CLI."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from sublarr.core import emit_event
from sublarr.core.db import hooks as store
from sublarr.core.delivery import add_webhook
from sublarr.core.delivery import store as deliveries
from sublarr.core.delivery.worker_pool import WorkerPool, get_current_pool, start_pool, stop_pool
from sublarr.core.settings import load_settings


@pytest.fixture
def env(delivery_env, sublarr_db):
    """A fresh database (its URL), the built-in plugins, a hooks dir and short waits."""
    return sublarr_db


CHILD = """
import sys, time
from sublarr.core import emit_event, load_plugins
from sublarr.core.db import init_db
from sublarr.core.delivery.worker_pool import WorkerPool

init_db(sys.argv[1])
load_plugins()
for i in range(int(sys.argv[2])):
    emit_event("subtitle_downloaded", {"title": f"episode {i}"})
print("queued", flush=True)
WorkerPool().start()
print("started", flush=True)
time.sleep(120)
"""


def test_kill_9_with_pending_deliveries_then_restart_delivers_every_one(env, webhook_receiver, tmp_path):
    count = 20
    add_webhook("slow", "subtitle_downloaded", webhook_receiver.url, retry_count=2)
    webhook_receiver.respond(delay=30)  # the first process never gets an answer
    child = tmp_path / "child.py"
    child.write_text(CHILD)
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("SUBLARR_")}
    child_env.update(
        {"SUBLARR_DATABASE_URL": env, "SUBLARR_DELIVERY_WORKERS": "4", "SUBLARR_LOAD_PLUGINS": "sublarr"}
    )
    proc = subprocess.Popen(
        [sys.executable, str(child), env, str(count)], env=child_env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "queued"
        webhook_receiver.wait_for(4, timeout=20)  # four deliveries in flight in the child
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    queued = {row["id"] for row in deliveries.get_deliveries(limit=1000)}
    assert len(queued) == count
    statuses = deliveries.count_deliveries()
    assert statuses.get("running", 0) >= 4 and sum(statuses.values()) == count  # claimed by the dead pool
    in_flight = webhook_receiver.ids()

    webhook_receiver.respond(200)
    pool = start_pool()  # a new pool: finds the dead pool's claims at once, without waiting for the lease
    try:
        deadline = time.monotonic() + 20
        while webhook_receiver.ids() != queued and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pool.wait_idle(10)
    finally:
        stop_pool()
    assert webhook_receiver.ids() == queued  # every delivery arrived, under its own id
    assert in_flight <= queued and len(in_flight) >= 4
    repeated = [r.webhook_id for r in webhook_receiver.requests if r.webhook_id in in_flight]
    assert len(repeated) == 2 * len(in_flight)  # in-flight ones came twice, same id: de-duplicable
    assert deliveries.count_deliveries() == {"delivered": count}


def test_without_a_pool_deliveries_wait_in_the_table(env, webhook_receiver):
    add_webhook("later", "batch_complete", webhook_receiver.url)
    for n in range(3):
        emit_event("batch_complete", {"batch_id": str(n)})
    assert deliveries.count_deliveries() == {"pending": 3}
    assert webhook_receiver.requests == []
    with WorkerPool(load_settings()) as pool:
        webhook_receiver.wait_for(3)
        assert pool.wait_idle(5)
    assert sorted(r.json["data"]["batch_id"] for r in webhook_receiver.requests) == ["0", "1", "2"]
    assert deliveries.count_deliveries() == {"delivered": 3}


def test_graceful_stop_waits_for_running_work_and_releases_the_rest(env, webhook_receiver):
    add_webhook("slowish", "batch_complete", webhook_receiver.url)
    webhook_receiver.respond(delay=0.5)
    pool = WorkerPool(load_settings(), workers=1).start()
    for n in range(5):
        emit_event("batch_complete", {"batch_id": str(n)})
    webhook_receiver.wait_for(1)
    started = time.monotonic()
    assert pool.stop(timeout=5) is True
    assert 0.2 < time.monotonic() - started < 2
    statuses = deliveries.count_deliveries()
    assert statuses == {"delivered": 1, "pending": 4}  # the unstarted ones are free for the next pool
    assert all(r["claimed_by"] is None for r in deliveries.get_deliveries(status="pending"))


def test_stop_gives_up_after_its_timeout(env, webhook_receiver):
    add_webhook("stuck", "batch_complete", webhook_receiver.url, timeout_seconds=30)
    webhook_receiver.respond(delay=30)
    pool = WorkerPool(load_settings(), workers=1).start()
    emit_event("batch_complete", {"batch_id": "x"})
    webhook_receiver.wait_for(1)
    started = time.monotonic()
    assert pool.stop(timeout=0.3) is False
    assert time.monotonic() - started < 1.5
    assert deliveries.count_deliveries() == {"running": 1}  # left to lease recovery
    webhook_receiver.stop()
    for thread in pool._workers:
        thread.join(10)
    assert deliveries.count_deliveries() == {"pending": 1}  # the connection error is retried later


def test_a_flood_backs_up_in_the_table_not_in_memory(env, webhook_receiver):
    add_webhook("flood", "wanted_item_processed", webhook_receiver.url)
    webhook_receiver.respond(delay=0.2)
    pool = WorkerPool(load_settings(), workers=2).start()
    try:
        for n in range(300):
            emit_event("wanted_item_processed", {"title": f"t{n}"})
        peak = 0
        for _ in range(20):
            peak = max(peak, pool.busy, pool._queue.qsize())
            time.sleep(0.01)
        assert peak <= pool.capacity == 4
        assert deliveries.count_deliveries().get("pending", 0) >= 280
    finally:
        assert pool.stop(timeout=5)
    assert deliveries.count_deliveries().get("running", 0) == 0


def test_expired_leases_and_dead_pools_are_recovered(env, webhook_receiver):
    hook = add_webhook("r", "config_updated", webhook_receiver.url)
    ids = deliveries.enqueue_deliveries(
        [("webhook", hook["id"])] * 3,
        "config_updated",
        "e1",
        "2026-01-01T00:00:00.000+00:00",
        '{"section":"a"}',
    )
    deliveries.claim_deliveries("other-host:1:aaaa", 1, lease_seconds=0.3)  # lease soon over
    dead = subprocess.Popen(["true"])
    dead.wait()
    deliveries.claim_deliveries(f"{socket.gethostname()}:{dead.pid}:bbbb", 1, lease_seconds=600)
    deliveries.claim_deliveries(f"{socket.gethostname()}:{os.getpid()}:cccc", 1, lease_seconds=0.3)
    assert deliveries.count_deliveries() == {"running": 3}
    with WorkerPool(load_settings({"SUBLARR_DELIVERY_LEASE": "0.3"})) as pool:
        deadline = time.monotonic() + 5
        while len(webhook_receiver.ids()) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert pool.wait_idle(5)
    assert webhook_receiver.ids() == set(ids)


def test_claims_never_hand_a_row_to_two_pools(env):
    hook = add_webhook("c", "config_updated", "http://127.0.0.1:9/")
    deliveries.enqueue_deliveries([("webhook", hook["id"])] * 200, "config_updated", "e", "t", "{}")
    import threading

    claimed: list[str] = []
    lock = threading.Lock()

    def claim(owner: str) -> None:
        while rows := deliveries.claim_deliveries(owner, 7, 60):
            with lock:
                claimed.extend(r["id"] for r in rows)

    threads = [threading.Thread(target=claim, args=(f"h:{n}:x",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == len(set(claimed)) == 200


def test_deleted_and_disabled_targets_are_skipped(env, webhook_receiver):
    gone = add_webhook("gone", "config_updated", webhook_receiver.url)
    off = add_webhook("off", "config_updated", webhook_receiver.url)
    emit_event("config_updated", {"section": "x"})
    store.delete_webhook_config(gone["id"])
    store.update_webhook_config(off["id"], enabled=False)
    with WorkerPool(load_settings()) as pool:
        assert pool.wait_idle(5)
    assert webhook_receiver.requests == [] and store.get_hook_logs() == []
    reasons = sorted(r["last_error"] for r in deliveries.get_deliveries(status="skipped"))
    assert reasons == [f"webhook {gone['id']} was deleted", f"webhook {off['id']} is disabled"]


def test_start_and_stop_pool_manage_the_current_pool(env):
    assert get_current_pool() is None
    pool = start_pool(load_settings(), workers=2)
    try:
        assert get_current_pool() is pool and pool.started and len(pool._workers) == 2
    finally:
        assert stop_pool() is True
    assert get_current_pool() is None and not pool.started


def test_cli_hooks_webhooks_and_logs(env, webhook_receiver, tmp_path):
    from sublarr.core.cli.main import cli

    hooks_dir = tmp_path / "hooks"
    (hooks_dir / "hi.sh").write_text("#!/bin/sh\necho hi from $SUBLARR_EVENT\n")
    (hooks_dir / "hi.sh").chmod(0o755)
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    assert "added hook 1 (hi) on subtitle_downloaded" in run(
        "hooks", "add", "hi", "subtitle_downloaded", "hi.sh"
    )
    assert "outside the hooks directory" in run(
        "hooks", "add", "x", "subtitle_downloaded", "/bin/true", code=1
    )
    assert "hi.sh" in run("hooks", "list")
    out = run("hooks", "test", "1")
    assert out.startswith("OK: script 1 (hi) exit code 0") and "hi from test" in out

    out = run(
        "webhooks", "add", "w", "*", webhook_receiver.url, "--method", "put",
        "--header", "Authorization: Bearer abcdef123456",
    )  # fmt: skip
    secret = out.split("signing secret (shown once): ", 1)[1].strip()
    assert secret.startswith("whsec_")
    listing = run("webhooks", "list") + run("webhooks", "list", "--json")
    assert secret not in listing and "abcdef123456" not in listing and "whsec_********" in listing
    assert json.loads(run("webhooks", "list", "--json"))[0]["method"] == "PUT"
    assert run("webhooks", "test", "1").startswith("OK: webhook 1 (w) HTTP 200")
    webhook_receiver.respond(500)
    assert run("webhooks", "test", "1", code=1).startswith("FAILED: webhook 1 (w) HTTP 500")

    logs = json.loads(run("logs", "--json"))
    assert [(r["hook_type"], r["success"]) for r in logs] == [
        ("webhook", False),
        ("webhook", True),
        ("script", True),
    ]
    assert len(json.loads(run("logs", "--webhook", "1", "--json"))) == 2
    assert len(json.loads(run("logs", "--hook", "1", "--limit", "5", "--json"))) == 1
    assert "FAILED" in run("logs")
    assert "removed webhook 1" in run("webhooks", "remove", "1")
    assert "removed hook 1" in run("hooks", "remove", "1")
    assert "does not exist" in run("hooks", "test", "1", code=1)
    assert run("hooks", "list").strip() == "No script hooks."


def test_a_delivery_whose_run_breaks_waits_instead_of_spinning(env, webhook_receiver):
    from sublarr.core.db import get_engine
    from sublarr.core.delivery.subscriptions import invalidate

    hook = add_webhook("broken", "config_updated", webhook_receiver.url)
    with get_engine().begin() as conn:  # corrupt stored options: the run raises
        conn.exec_driver_sql(
            "UPDATE webhook_options SET headers = '{not json' WHERE webhook_id = ?", (hook["id"],)
        )
    invalidate()
    emit_event("config_updated", {"section": "x"})
    with WorkerPool(load_settings()) as pool:
        deadline = time.monotonic() + 5
        while pool.completed < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        assert pool.completed == 1  # tried once, not in a loop
    [row] = deliveries.get_deliveries()
    assert row["status"] == "pending" and row["last_error"] == "internal error"
    assert row["next_attempt_at"] > time.time() + 20 and row["claimed_by"] is None
    assert webhook_receiver.requests == []
