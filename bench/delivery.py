"""Benchmark of the delivery pipeline; prints figures and ratios measured in this run, asserts nothing.

1. ``emit_event`` with the Socket.IO bridge bound and no hook/webhook subscribed, against a
   bare blinker ``send`` plus one ``socketio.emit`` of the same payload (target: <= 1.5x),
   once with no Socket.IO client and once with one real WebSocket client connected.
2. ``emit_event`` with 50 webhooks subscribed: median latency with no pool running, and
   while a pool delivers to a receiver answering at once or after 200 ms (target: median
   < 1 ms, and the same whatever the receiver's latency).
3. Webhook deliveries per second to a loopback receiver (another process), signed and
   logged by a 4-worker pool, against a bare keep-alive ``httpx`` POST loop to the same
   receiver (target: >= 50 %).
4. Script hook runs per second by the pool against a bare ``subprocess.run`` loop of the
   same script (target: >= 70 %).

Uses a temporary SQLite database. Run: ``.venv/bin/python bench/delivery.py`` (about 30 s).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RECEIVER = """
import sys, time
from sublarr.core.testing.receiver import WebhookReceiver
r = WebhookReceiver().start()
r.respond(delay=float(sys.argv[1]))
print(r.url, flush=True)
sys.stdin.read()
"""


def start_receiver(delay: float) -> tuple[subprocess.Popen[str], str]:
    """A WebhookReceiver in its own process; returns it and its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-c", RECEIVER, str(delay)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def stop_receiver(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(10)


def emit_with_a_client(app: Any, socketio: Any, bare: Any, payload: dict) -> tuple[float, float, int]:
    """Section 1 again while a real python-socketio client is connected over WebSocket."""
    import logging
    import socket
    import threading

    import socketio as python_socketio
    from werkzeug.serving import make_server

    from sublarr.core import emit_event

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the client's close is noise
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = python_socketio.Client(reconnection=False)
    received = [0]
    client.on("subtitle_downloaded", lambda data: received.__setitem__(0, received[0] + 1))
    client.connect(f"http://127.0.0.1:{port}", transports=["websocket"], wait_timeout=10)
    try:
        for _ in range(3):
            t_bare = per_call(bare, 1000)
            t_emit = per_call(lambda: emit_event("subtitle_downloaded", payload), 1000)
        time.sleep(1)
    finally:
        client.disconnect()
        server.shutdown()
    return t_bare, t_emit, received[0]


def per_call(func: Any, number: int, repeat: int = 5) -> float:
    """Best-of-``repeat`` seconds per call over ``number`` calls."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            func()
        best = min(best, (time.perf_counter() - started) / number)
    return best


def latencies(func: Any, number: int) -> list[float]:
    out = []
    for _ in range(number):
        started = time.perf_counter()
        func()
        out.append(time.perf_counter() - started)
    return out


def pool_rate(settings: Any, count: int, event_name: str, payload: dict) -> float:
    """Emit ``event_name`` ``count`` times, then how many deliveries per second a 4-worker pool runs."""
    from sublarr.core import emit_event
    from sublarr.core.delivery.worker_pool import WorkerPool

    for _ in range(count):
        emit_event(event_name, payload)
    with WorkerPool(settings) as pool:
        started = time.perf_counter()
        while pool.completed < count:
            time.sleep(0.005)
        rate = count / (time.perf_counter() - started)
        pool.stop(timeout=5)
    return rate


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="sublarr-bench-"))
    hooks = tmp / "hooks"
    hooks.mkdir()
    os.environ.update(
        {
            "SUBLARR_DATA_DIR": str(tmp),
            "SUBLARR_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
            "SUBLARR_HOOKS_DIR": str(hooks),
            "SUBLARR_LOAD_PLUGINS": "sublarr",  # the built-ins only
        }
    )
    import httpx
    from flask import Flask
    from flask_socketio import SocketIO

    from sublarr.core import Sublarr, emit_event, load_plugins
    from sublarr.core.db import get_engine, init_db
    from sublarr.core.db import hooks as store
    from sublarr.core.delivery import add_hook, add_webhook
    from sublarr.core.delivery.worker_pool import WorkerPool
    from sublarr.core.events.catalog import sublarr_signals
    from sublarr.core.settings import load_settings

    init_db()
    load_plugins()

    def clear_queue() -> None:
        """Drop what earlier sections left queued, so each section measures its own work."""
        with get_engine().begin() as conn:
            conn.exec_driver_sql("DELETE FROM deliveries")

    app = Flask("bench")
    socketio = SocketIO(app, async_mode="threading")
    Sublarr(app, socketio)
    payload = {"title": "Dark", "season": 1, "episode": 1, "language": "de", "score": 350}
    settings = load_settings()

    # 1. emit with no subscribers vs blinker + one Socket.IO emit -------------------------
    bare_signal = sublarr_signals.signal("bench_bare")
    bare_signal.connect(lambda sender, **kw: None)

    def bare() -> None:
        bare_signal.send(None, data=payload)
        socketio.emit("subtitle_downloaded", payload)

    emit_event("wanted_scan_complete", {"total_items": 1})  # warm the subscription cache
    for _ in range(3):
        t_bare = per_call(bare, 5000)
        t_emit = per_call(lambda: emit_event("subtitle_downloaded", payload), 5000)
    print("1. emit_event, Socket.IO bridge bound, no subscribers")
    print(f"   bare blinker send + socketio.emit  {t_bare * 1e6:8.2f} µs")
    print(
        f"   emit_event                         {t_emit * 1e6:8.2f} µs   ratio {t_emit / t_bare:.2f}x"
        "  (target <= 1.5x)"
    )
    t_bare, t_emit, received = emit_with_a_client(app, socketio, bare, payload)
    print("   the same with one real WebSocket client connected (python-socketio, 127.0.0.1)")
    print(f"   bare blinker send + socketio.emit  {t_bare * 1e6:8.2f} µs")
    print(
        f"   emit_event                         {t_emit * 1e6:8.2f} µs   ratio {t_emit / t_bare:.2f}x"
        f"  ({received} messages reached the client)"
    )

    # 2. emit with 50 subscribed webhooks --------------------------------------------------
    fast_proc, fast_url = start_receiver(0.0)
    slow_proc, slow_url = start_receiver(0.2)
    ids = [add_webhook(f"wh{n}", "batch_complete", fast_url, retry_count=0)["id"] for n in range(50)]
    batch = {"batch_id": "b", "batch_type": "search", "total": 1}
    emit_event("batch_complete", batch)  # warm the cache
    no_pool = latencies(lambda: emit_event("batch_complete", batch), 200)
    results = {"no pool running": no_pool}
    for label, url in (
        ("pool delivering, receiver answers at once", fast_url),
        ("pool delivering, receiver answers after 200 ms", slow_url),
    ):
        for webhook_id in ids:
            store.update_webhook_config(webhook_id, url=url)
        emit_event("batch_complete", batch)
        with WorkerPool(settings) as pool:
            time.sleep(0.2)
            results[label] = latencies(lambda: emit_event("batch_complete", batch), 200)
            pool.stop(timeout=1)
    print("\n2. emit_event with 50 subscribed webhooks (200 emits each, 50 rows queued per emit)")
    for label, values in results.items():
        values = sorted(values)
        print(
            f"   {label:48s} median {statistics.median(values) * 1e3:6.3f} ms"
            f"   p90 {values[int(len(values) * 0.9)] * 1e3:6.3f} ms  (target median < 1 ms)"
        )
    for webhook_id in ids:
        store.delete_webhook_config(webhook_id)
    stop_receiver(slow_proc)
    clear_queue()

    # 3. webhook deliveries per second -----------------------------------------------------
    count = 2000
    body = b'{"id":"msg_x","type":"batch_complete","version":1,"data":{}}'
    with httpx.Client() as client:
        client.post(fast_url, content=body)
        started = time.perf_counter()
        for _ in range(count):
            client.post(fast_url, content=body, headers={"Content-Type": "application/json"})
        bare_rate = count / (time.perf_counter() - started)
    add_webhook("rate", "config_updated", fast_url, retry_count=0)
    rate = pool_rate(settings, count, "config_updated", {"section": "bench"})
    print(f"\n3. webhook deliveries to a loopback receiver ({count}, signed, logged, 4 workers)")
    print(f"   bare keep-alive httpx POST loop    {bare_rate:8.0f} /s")
    print(
        f"   delivery pool                      {rate:8.0f} /s   ratio {rate / bare_rate:.0%}"
        "  (target >= 50%)"
    )
    stop_receiver(fast_proc)

    clear_queue()

    # 4. script hook runs per second --------------------------------------------------------
    count = 400
    script = hooks / "noop.sh"
    script.write_text("#!/bin/sh\ncat >/dev/null\necho ok\n")
    script.chmod(0o755)
    started = time.perf_counter()
    for _ in range(count):
        subprocess.run([str(script)], input=b"{}", capture_output=True, check=True)
    bare_rate = count / (time.perf_counter() - started)
    add_hook("rate", "whisper_complete", "noop.sh")
    rate = pool_rate(settings, count, "whisper_complete", {"title": "Dark", "language": "de"})
    print(f"\n4. script hook runs ({count}, logged, 4 workers)")
    print(f"   bare subprocess.run loop           {bare_rate:8.0f} /s")
    print(
        f"   delivery pool                      {rate:8.0f} /s   ratio {rate / bare_rate:.0%}"
        "  (target >= 70%)"
    )


if __name__ == "__main__":
    main()
