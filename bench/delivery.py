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

3b. The same pool against a bare keep-alive ``http.client`` loop run by as many threads as
   the pool has workers (the stronger floor; target: >= 50 %).
5. Claims at depth: claiming 8 due deliveries with 2,000 due, with 100,000 due, and with
   2,000 due + 100,000 waiting for a retry (target: each within 2x of the first).
6. Purging 1,000,000 finished deliveries while ``emit_event`` (one webhook subscribed, so
   each emit writes the queue) runs in a loop: the longest emit during the purge against
   the longest without it (target: no emit stalls more than 10 ms).
7. ``GET /hooks/logs`` pages (through the API) at 10,000 and at 1,000,000 log rows: the first
   page, a page deep in the log by cursor, and both filtered by webhook (target: each
   within 2x of the same page at 10,000); the deprecated OFFSET paging for contrast.

Uses a temporary SQLite database. Run: ``.venv/bin/python bench/delivery.py`` (a few
minutes; ``--quick`` builds 10x smaller tables for sections 5-7, ``--only 3,5`` runs
some sections, ``--postgres URL`` runs section 5 on PostgreSQL too, as 5b).
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


def http_client_rate(url: str, body: bytes, count: int, threads: int) -> float:
    """Requests per second of ``threads`` threads, each POSTing over its own keep-alive connection."""
    import http.client
    import threading
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    per_thread = count // threads
    headers = {"Content-Type": "application/json"}
    barrier = threading.Barrier(threads + 1)

    def loop() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.request("POST", parts.path or "/", body=body, headers=headers)
        conn.getresponse().read()
        barrier.wait()
        for _ in range(per_thread):
            conn.request("POST", parts.path or "/", body=body, headers=headers)
            conn.getresponse().read()
        conn.close()

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    return per_thread * threads / (time.perf_counter() - started)


def fill_deliveries(conn: Any, count: int, status: str, next_at: float, start: int = 0) -> None:
    """``count`` deliveries in one INSERT ... SELECT over a recursive CTE (fast at 1,000,000)."""
    finished = "'2000-01-01T00:00:00'" if status in ("delivered", "failed", "skipped") else "NULL"
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "INSERT INTO deliveries (id, kind, target_id, event_name, event_id, event_timestamp, payload, "
            "status, attempts, next_attempt_at, last_error, created_at, finished_at) "
            "SELECT 'msg_' || lpad(to_hex(i), 32, '0'), 'webhook', 1, 'config_updated', 'e', 't', "
            "'{\"section\":\"bench\"}', %(status)s, 0, %(next_at)s::float8 + i * 0.000001, '', "
            f"'2000-01-01T00:00:00', {finished} FROM generate_series(%(first)s::int, %(last)s::int) AS i",
            {"status": status, "next_at": next_at, "first": start, "last": start + count - 1},
        )
        return
    conn.exec_driver_sql(
        "WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        "INSERT INTO deliveries (id, kind, target_id, event_name, event_id, event_timestamp, payload, "
        "status, attempts, next_attempt_at, last_error, created_at, finished_at) "
        "SELECT printf('msg_%032x', i), 'webhook', 1, 'config_updated', 'e', 't', '{\"section\":\"bench\"}', "
        f"?, 0, ? + i * 0.000001, '', '2000-01-01T00:00:00', {finished} FROM n",
        (start, start + count - 1, status, next_at),
    )


def fill_log(conn: Any, count: int) -> None:
    """``count`` log rows of webhooks 1..10 in one INSERT ... SELECT (one in 20 failed)."""
    conn.exec_driver_sql(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        "INSERT INTO hook_log (webhook_id, event_name, hook_type, success, status_code, stdout, stderr, "
        "error, duration_ms, triggered_at, delivery_id) "
        "SELECT i % 10 + 1, 'config_updated', 'webhook', i % 20 != 0, 200, '', '', '', 1.5, "
        "'2026-01-01T00:00:00', printf('msg_%032x', i) FROM n",
        (count,),
    )


def median_ms(func: Any, number: int = 30) -> float:
    return statistics.median(latencies(func, number)) * 1e3


def claims_at_depth(scale: int, database: str = "SQLite") -> None:
    """Section 5 (5b on PostgreSQL)."""
    from sublarr.core.db import get_engine
    from sublarr.core.delivery import store as queue

    def settle() -> None:
        """On PostgreSQL, the statistics and clean pages autovacuum keeps (VACUUM ANALYZE)."""
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE deliveries")

    def claim_ms() -> float:
        def once() -> None:
            queue.claim_deliveries("bench:1:x", 8, 60)
            queue.release_owner("bench:1:x")

        return median_ms(once, 50)

    engine = get_engine()
    shallow, deep = 2000, 100_000 // scale
    now = time.time()
    cases = {}
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM deliveries")
        fill_deliveries(conn, shallow, "pending", now - 3600)
    settle()
    cases[f"{shallow:,} due"] = claim_ms()
    with engine.begin() as conn:
        fill_deliveries(conn, deep - shallow, "pending", now - 1800, start=shallow)
    settle()
    cases[f"{deep:,} due"] = claim_ms()
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM deliveries")
        fill_deliveries(conn, shallow, "pending", now - 3600)
        fill_deliveries(conn, deep, "pending", now + 3600, start=10**7)
    settle()
    cases[f"{shallow:,} due + {deep:,} waiting"] = claim_ms()
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM deliveries")
    number = "5" if database == "SQLite" else "5b"
    print(f"\n{number}. claiming 8 due deliveries on {database} (median of 50 claims)")
    base = next(iter(cases.values()))
    for label, value in cases.items():
        print(f"   {label:34s} {value:8.3f} ms   ratio {value / base:5.2f}x  (target <= 2x)")


def purge_at_depth(scale: int, settings: Any, url: str) -> None:
    """Section 6."""
    import threading

    from sublarr.core import emit_event
    from sublarr.core.db import get_engine
    from sublarr.core.delivery import add_webhook
    from sublarr.core.delivery import store as queue

    count = 1_000_000 // scale
    engine = get_engine()
    add_webhook("purge", "wanted_scan_complete", url, retry_count=0)
    payload = {"total_items": 1}
    emit_event("wanted_scan_complete", payload)  # warm
    quiet = latencies(lambda: emit_event("wanted_scan_complete", payload), 300)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM deliveries")
        fill_deliveries(conn, count, "delivered", 0.0)
    built = time.perf_counter() - started
    purged: list[int] = []
    done = threading.Event()

    def purge() -> None:
        purged.append(queue.purge_finished(3600))
        done.set()

    during: list[float] = []
    thread = threading.Thread(target=purge)
    started = time.perf_counter()
    thread.start()
    while not done.is_set():
        began = time.perf_counter()
        emit_event("wanted_scan_complete", payload)
        during.append(time.perf_counter() - began)
        time.sleep(0.001)
    thread.join()
    took = time.perf_counter() - started
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM deliveries")
    during.sort()
    print(f"\n6. purging {count:,} finished deliveries (built in {built:.1f} s) while emit_event runs")
    batches = getattr(queue, "PURGE_BATCH", "all")
    print(f"   purge took {took:.2f} s ({purged[0]:,} rows, batches of {batches})")
    print(
        f"   emit without a purge   median {statistics.median(quiet) * 1e3:6.3f} ms"
        f"   max {max(quiet) * 1e3:7.3f} ms"
    )
    print(
        f"   emit during the purge  median {statistics.median(during) * 1e3:6.3f} ms"
        f"   max {during[-1] * 1e3:7.3f} ms"
        f"   p99 {during[int(len(during) * 0.99)] * 1e3:6.3f} ms  ({len(during)} emits; target max <= 10 ms)"
    )


def log_pages_at_depth(scale: int, app: Any) -> None:
    """Section 7."""
    from sublarr.core.db import get_engine

    engine = get_engine()
    client = app.test_client()
    key = app.config.get("SUBLARR_API_KEY")
    headers = {"X-Api-Key": key} if key else {}

    def page(query: str) -> dict:
        response = client.get(f"/api/v1/hooks/logs?{query}", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def measure(rows: int) -> dict[str, float]:
        middle = page(f"limit=1&offset={rows // 2}")["logs"][0]["id"] if rows else 0
        from sublarr.core.db.hooks import log_cursor

        deep = log_cursor(middle)
        queries = {
            "first page": "limit=50",
            "deep page (cursor)": f"limit=50&cursor={deep}",
            "first page, one webhook": "limit=50&webhook_id=3",
            "deep page, one webhook": f"limit=50&webhook_id=3&cursor={deep}",
            "failures only": "limit=50&success=false",
            "deep page (OFFSET, deprecated)": f"limit=50&offset={rows // 2}",
        }
        return {label: median_ms(lambda q=q: page(q), 20) for label, q in queries.items()}

    shallow, deep_rows = 10_000, 1_000_000 // scale
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM hook_log")
        fill_log(conn, shallow)
    small = measure(shallow)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM hook_log")
        fill_log(conn, deep_rows)
    built = time.perf_counter() - started
    large = measure(deep_rows)
    total_ms = median_ms(lambda: page("limit=50&include_total=true"), 5)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM hook_log")
    print(
        f"\n7. GET /hooks/logs pages of 50 (median of 20), {shallow:,} vs {deep_rows:,} rows"
        f" (built in {built:.1f} s)"
    )
    for label in small:
        target = "" if "OFFSET" in label else "  (target <= 2x)"
        print(
            f"   {label:32s} {small[label]:7.3f} ms  {large[label]:7.3f} ms"
            f"   ratio {large[label] / small[label]:5.2f}x{target}"
        )
    print(
        f"   first page with include_total=true at {deep_rows:,} rows: {total_ms:.1f} ms (counted on request)"
    )


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


def clear_queue() -> None:
    """Drop what earlier sections left queued, so each section measures its own work."""
    from sublarr.core.db import get_engine

    with get_engine().begin() as conn:
        conn.exec_driver_sql("DELETE FROM deliveries")


def log_api_app(tmp: Path) -> Any:
    """The REST API app (``create_app``) on the bench's database, with its API key as config."""
    from sublarr.core.web.app_factory import create_app

    app = create_app({"TESTING": True, "SUBLARR_DATA_DIR": str(tmp), "SUBLARR_LOAD_PLUGINS": "sublarr"})
    app.config["SUBLARR_API_KEY"] = app.extensions["sublarr.api_key"].value
    return app


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10x smaller tables in sections 5-7")
    parser.add_argument("--only", default="", help="comma-separated sections to run, e.g. 3,5")
    parser.add_argument("--postgres", metavar="URL", help="also run section 5 on this PostgreSQL server (5b)")
    args = parser.parse_args()
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    scale = 10 if args.quick else 1

    def run(section: str) -> bool:
        return not only or section in only

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
    from flask import Flask
    from flask_socketio import SocketIO

    from sublarr.core import Sublarr, load_plugins
    from sublarr.core.db import init_db
    from sublarr.core.settings import load_settings

    init_db()
    load_plugins()

    app = Flask("bench")
    socketio = SocketIO(app, async_mode="threading")
    Sublarr(app, socketio)
    payload = {"title": "Dark", "season": 1, "episode": 1, "language": "de", "score": 350}
    settings = load_settings()

    fast_proc, fast_url = start_receiver(0.0)
    if run("1"):
        emit_sections(socketio, app, payload)
    if run("2"):
        emit_with_webhooks(settings, fast_url)
    if run("3"):
        delivery_rate(settings, fast_url)
    if run("4"):
        script_rate(settings, hooks)
    if run("5"):
        claims_at_depth(scale)
    if run("6"):
        purge_at_depth(scale, settings, fast_url)
    if run("7"):
        log_pages_at_depth(scale, log_api_app(tmp))
    stop_receiver(fast_proc)
    if args.postgres and run("5"):
        claims_on_postgres(args.postgres, scale)


def claims_on_postgres(url: str, scale: int) -> None:
    """Section 5b: section 5 in a fresh schema of the PostgreSQL server at ``url`` (dropped after)."""
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from sublarr.core.db import dispose_db, init_db

    schema = f"sublarr_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        dispose_db()
        scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        init_db(scoped.render_as_string(hide_password=False))
        claims_at_depth(scale, "PostgreSQL")
    finally:
        dispose_db()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def emit_sections(socketio: Any, app: Any, payload: dict) -> None:
    """Section 1."""
    from sublarr.core import emit_event
    from sublarr.core.events.catalog import sublarr_signals

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


def emit_with_webhooks(settings: Any, fast_url: str) -> None:
    """Section 2."""
    from sublarr.core import emit_event
    from sublarr.core.db import hooks as store
    from sublarr.core.delivery import add_webhook
    from sublarr.core.delivery.worker_pool import WorkerPool

    # 2. emit with 50 subscribed webhooks --------------------------------------------------
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


def delivery_rate(settings: Any, fast_url: str) -> None:
    """Sections 3 and 3b."""
    import httpx

    from sublarr.core.delivery import add_webhook

    # 3. webhook deliveries per second -----------------------------------------------------
    # Three rounds of (httpx loop, http.client floor, pool), the best of each kept: on a
    # shared machine the load changes within seconds, and the best round is the least disturbed.
    count = 2000
    body = b'{"id":"msg_x","type":"batch_complete","version":1,"data":{}}'
    workers = settings.delivery_workers
    add_webhook("rate", "config_updated", fast_url, retry_count=0)
    bare_rates, floor_rates, rates = [], [], []
    for _ in range(3):
        with httpx.Client() as client:
            client.post(fast_url, content=body)
            started = time.perf_counter()
            for _ in range(count):
                client.post(fast_url, content=body, headers={"Content-Type": "application/json"})
            bare_rates.append(count / (time.perf_counter() - started))
        floor_rates.append(http_client_rate(fast_url, body, count, workers))
        rates.append(pool_rate(settings, count, "config_updated", {"section": "bench"}))
        clear_queue()
    bare_rate, floor_rate, rate = max(bare_rates), max(floor_rates), max(rates)
    print(f"\n3. webhook deliveries to a loopback receiver ({count}, signed, logged, {workers} workers)")
    print(f"   (best of 3 rounds; pool rounds {', '.join(f'{r:.0f}' for r in rates)} /s)")
    print(f"   bare keep-alive httpx POST loop    {bare_rate:8.0f} /s")
    print(
        f"   delivery pool                      {rate:8.0f} /s   ratio {rate / bare_rate:.0%}"
        "  (target >= 50%)"
    )
    print(f"3b. bare keep-alive http.client loop, {workers} threads {floor_rate:6.0f} /s")
    print(
        f"   delivery pool                      {rate:8.0f} /s   ratio {rate / floor_rate:.0%}"
        "  (target >= 50%)"
    )


def script_rate(settings: Any, hooks: Path) -> None:
    """Section 4."""
    from sublarr.core.delivery import add_hook

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
