"""Benchmark of sublarr across processes; prints figures measured in this run, asserts nothing.

1. Webhook deliveries/s with 1, 2 and 4 ``sublarr worker`` processes (4 threads each) on
   PostgreSQL against the loopback receiver (``sublarr.core.testing.receiver``, in this
   process), and the scaling efficiency: rate at 4 / (4 x rate at 1).
2. Cross-process event latency: an event emitted by ``emit_event`` in one process (no
   Socket.IO server there) until a python-socketio client of a ``sublarr serve`` receives
   it, p50 and p99, through Redis (``SUBLARR_MESSAGE_QUEUE``) and through the embedded path
   (``recent_events`` on one SQLite data dir, followed every 0.2 s).

PostgreSQL and Redis: ``SUBLARR_TEST_POSTGRES_URL`` / ``SUBLARR_TEST_REDIS_URL``, else
``.ci/start-postgres`` / ``.ci/start-redis`` start the throwaway servers the tests use.
Run: ``.venv/bin/python bench/scale.py`` (about a minute; ``--quick``: fewer deliveries).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
QUICK = "--quick" in sys.argv
DELIVERIES = 1000 if QUICK else 3000
WEBHOOKS = 10
THREADS = 4
LATENCY_EVENTS = 100 if QUICK else 300
API_KEY = "bench-scale-key-0123456789abcdef"


def service_url(env_key: str, script: str) -> str:
    url = os.environ.get(env_key)
    if url:
        return url
    return subprocess.run(
        ["bash", str(REPO / ".ci" / script)], check=True, capture_output=True, text=True
    ).stdout.strip()


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUBLARR_")}
    env.update({"SUBLARR_LOAD_PLUGINS": "sublarr", "SUBLARR_API_KEY": API_KEY, **extra})
    return env


def start(args: list[str], env: dict[str, str], ready: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [str(BIN / "sublarr"), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 60
    while not any(ready in line for line in lines):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"sublarr {args[0]} did not start:\n{''.join(lines)}")
        time.sleep(0.05)
    return process


def stop(processes: list[subprocess.Popen[str]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def fresh_schema(base_url: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"sublarr_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def drop_schema(base_url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


# ---- 1. deliveries/s with 1, 2, 4 worker processes -------------------------------------------------


def delivery_rate(base_url: str, processes: int) -> float:
    """Deliveries/s of ``processes`` workers draining DELIVERIES queued webhook deliveries."""
    from sublarr.core.db import dispose_db, init_db
    from sublarr.core.delivery import add_webhook
    from sublarr.core.delivery import store as deliveries
    from sublarr.core.testing.receiver import WebhookReceiver

    url, schema = fresh_schema(base_url)
    receiver = WebhookReceiver().start()
    workers: list[subprocess.Popen[str]] = []
    try:
        init_db(url)
        ids = [add_webhook(f"w{n}", "batch_complete", receiver.url)["id"] for n in range(WEBHOOKS)]
        env = clean_env(
            {
                "SUBLARR_DATABASE_URL": url,
                "SUBLARR_DELIVERY_POLL_INTERVAL": "0.05",
                "SUBLARR_DELIVERY_WORKERS": str(THREADS),
                "SUBLARR_LOG_LEVEL": "warning",
            }
        )
        workers = [start(["worker"], env, "worker running") for _ in range(processes)]
        time.sleep(0.5)
        per_event = [("webhook", hook_id) for hook_id in ids]
        started = time.monotonic()
        for n in range(DELIVERIES // WEBHOOKS):
            deliveries.enqueue_deliveries(per_event, "batch_complete", f"e{n}", "t", '{"total": 1}')
        receiver.wait_for(DELIVERIES, timeout=300)
        elapsed = time.monotonic() - started
        repeats = len(receiver.requests) - len(receiver.ids())
        if repeats:
            print(f"   ! {repeats} deliveries arrived twice")
        return DELIVERIES / elapsed
    finally:
        stop(workers)
        receiver.stop()
        dispose_db()
        drop_schema(base_url, schema)


# ---- 2. cross-process event latency ------------------------------------------------------------------

EMITTER = """
import sys, time
from sublarr.core import emit_event
from sublarr.core.db import init_db
init_db()
emit_event("batch_complete", {"batch_id": "warm-up"})  # connects to Redis / opens the table
time.sleep(0.5)
for n in range(int(sys.argv[1])):
    emit_event("batch_complete", {"batch_id": repr(time.time()), "total": n})
    time.sleep(0.02)
"""


def event_latency(env: dict[str, str], data_dir: Path) -> tuple[float, float, int]:
    """p50 and p99 (ms) from ``emit_event`` in another process to a client of a server; received count."""
    import socketio

    server_env = clean_env({**env, "SUBLARR_DATA_DIR": str(data_dir)})
    port = _free_port()
    server = start(["serve", "--port", str(port)], server_env, "Press Ctrl-C")
    latencies: list[float] = []
    client = socketio.Client(reconnection=False)

    def received(data: dict[str, str]) -> None:
        if data["batch_id"] != "warm-up":
            latencies.append(time.time() - float(data["batch_id"]))

    client.on("batch_complete", received)
    try:
        time.sleep(1.0)  # the worker process has booted and follows / subscribes
        client.connect(f"http://127.0.0.1:{port}", transports=["websocket"], auth={"apikey": API_KEY})
        subprocess.run(
            [sys.executable, "-c", EMITTER, str(LATENCY_EVENTS)], check=True, env=server_env, timeout=300
        )
        time.sleep(1.0)
    finally:
        client.disconnect()
        stop([server])
    ordered = sorted(latencies)
    if not ordered:
        return float("nan"), float("nan"), 0
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000, len(ordered)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    print(f"bench/scale.py on {os.cpu_count()} CPU(s){' (quick)' if QUICK else ''}")
    pg = service_url("SUBLARR_TEST_POSTGRES_URL", "start-postgres")
    redis = service_url("SUBLARR_TEST_REDIS_URL", "start-redis")

    print(
        f"1. webhook deliveries/s, {DELIVERIES} deliveries, "
        f"sublarr worker x N ({THREADS} threads each), PostgreSQL"
    )
    rates = {}
    for processes in (1, 2, 4):
        rates[processes] = delivery_rate(pg, processes)
        print(f"   {processes} worker process(es): {rates[processes]:7.0f} deliveries/s")
    print(f"   scaling efficiency rate(4) / (4 x rate(1)) = {rates[4] / (4 * rates[1]):.2f}")

    print(f"2. cross-process event latency, {LATENCY_EVENTS} events, emit_event in another process -> client")
    with tempfile.TemporaryDirectory() as tmp:
        for label, env in (
            ("Redis (SUBLARR_MESSAGE_QUEUE)", {"SUBLARR_MESSAGE_QUEUE": redis}),
            ("embedded (recent_events)", {}),
        ):
            p50, p99, got = event_latency(env, Path(tmp) / label.split()[0])
            print(f"   {label:32s} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  ({got}/{LATENCY_EVENTS} received)")


if __name__ == "__main__":
    main()
