"""Benchmark of `sublarr serve`; prints figures and ratios measured in this run, asserts nothing.

1. Socket.IO clients held at once by one server process (N = 100, 1,000, 5,000 WebSocket
   clients, minimal clients on one asyncio loop in this process), and the fan-out of one
   event emitted through the API to all of them: p50 and p99 from the emit request to each
   client's receipt (targets: 5,000 clients; p99 < 1 s at 1,000).
2. ``GET /api/v1/health`` p99 while 1,000 half-open connections are held (target < 100 ms).
3. HTTP requests/s for ``GET /health`` and ``POST /events/{name}/emit`` at concurrency 1, 8,
   32 and 128 (a bare ``http.client`` keep-alive loop per thread), against a bare Flask app
   with one route under the same server (Gunicorn, one gevent worker, same keep-alive) in
   the same run (target: >= 50 % of that floor).

Run: ``.venv/bin/python bench/serve.py`` (about a minute; ``--quick`` stops at N = 1,000).
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BIN = Path(sys.executable).parent
EVENT = "batch_complete"
BARE_APP = """
from flask import Flask, jsonify
app = Flask("bare")

@app.get("/")
def index():
    return jsonify(status="ok")
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def start_sublarr(data_dir: Path) -> tuple[subprocess.Popen[str], int, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUBLARR_")}
    env.update({"SUBLARR_LOG_LEVEL": "warning", "SUBLARR_LOAD_PLUGINS": "sublarr"})
    process = subprocess.Popen(
        [str(BIN / "sublarr"), "serve", "--port", str(port), "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    capacity = ""
    for line in process.stdout:
        if line.strip().startswith("capacity"):
            capacity = line.strip()
        if "Press Ctrl-C" in line:
            break
    threading.Thread(target=process.stdout.read, daemon=True).start()
    return process, port, capacity


def start_bare(tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    (tmp / "bare_app.py").write_text(BARE_APP)
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-k", "gevent", "-w", "1", "--keep-alive", "5", "-b", f"127.0.0.1:{port}"]
        + ["--worker-connections", "10000", "--log-level", "warning", "bare_app:app"],
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_port(port)
    return process, port


# -- minimal Socket.IO clients over WebSocket, many on one asyncio loop ------------------------


def _frame(text: str) -> bytes:
    data = text.encode()
    mask = os.urandom(4)
    head = (
        bytes([0x81, 0x80 | len(data)])
        if len(data) < 126
        else bytes([0x81, 0xFE]) + len(data).to_bytes(2, "big")
    )
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


async def _read_frame(reader: asyncio.StreamReader) -> str:
    head = await reader.readexactly(2)
    length = head[1] & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8), "big")
    return (await reader.readexactly(length)).decode(errors="replace")


class Client:
    """One Socket.IO client: WebSocket transport, connected to ``/`` with the key in ``auth``."""

    def __init__(self, port: int, key: str) -> None:
        self.port, self.key = port, key
        self.received_at: float | None = None
        self.connected = asyncio.Event()
        self.got = asyncio.Event()
        self.writer: asyncio.StreamWriter | None = None

    async def run(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port, limit=2**20)
        self.writer = writer
        nonce = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {nonce}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        await reader.readuntil(b"\r\n\r\n")
        await _read_frame(reader)  # Engine.IO open
        writer.write(_frame("40" + json.dumps({"apikey": self.key})))
        while True:
            text = await _read_frame(reader)
            if text == "2":
                writer.write(_frame("3"))  # pong
            elif text.startswith("40"):
                self.connected.set()
            elif text.startswith("42"):
                self.received_at = time.perf_counter()
                self.got.set()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def emit(port: int, key: str) -> float:
    """POST the event; return the time just before sending."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"total": 1})
    headers = {"X-Api-Key": key, "Content-Type": "application/json"}
    started = time.perf_counter()
    connection.request("POST", f"/api/v1/events/{EVENT}/emit", body, headers)
    assert connection.getresponse().status == 202
    connection.close()
    return started


async def fan_out(port: int, key: str, count: int) -> tuple[int, list[float]]:
    clients = [Client(port, key) for _ in range(count)]
    tasks = []
    for n, client in enumerate(clients):
        tasks.append(asyncio.create_task(client.run()))
        if n % 200 == 199:
            await asyncio.sleep(0.05)  # do not flood the listen backlog
    try:
        await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in clients)), 120)
        held = sum(c.connected.is_set() for c in clients)
        started = await asyncio.to_thread(emit, port, key)
        await asyncio.wait_for(asyncio.gather(*(c.got.wait() for c in clients)), 60)
        return held, sorted(c.received_at - started for c in clients if c.received_at is not None)
    finally:
        for client in clients:
            client.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# -- HTTP -----------------------------------------------------------------------------------


def health_p99_with_half_open(port: int, count: int) -> tuple[float, float]:
    held = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")
        held.append(sock)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        times = []
        for _ in range(200):
            started = time.perf_counter()
            connection.request("GET", "/api/v1/health")
            response = connection.getresponse()
            response.read()
            times.append(time.perf_counter() - started)
            assert response.status == 200
        times.sort()
        return times[len(times) // 2], times[int(len(times) * 0.99) - 1]
    finally:
        for sock in held:
            sock.close()


def rate(
    port: int,
    method: str,
    path: str,
    body: str | None,
    headers: dict[str, str],
    threads: int,
    seconds: float = 2.0,
) -> float:
    """Requests/s of ``threads`` keep-alive ``http.client`` loops over ``seconds``."""
    stop = time.perf_counter() + seconds
    counts = [0] * threads

    def loop(n: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < stop:
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            response.read()
            if response.status >= 400:
                raise RuntimeError(f"{method} {path}: {response.status}")
            counts[n] += 1
        connection.close()

    workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.perf_counter() - started)


def main() -> None:
    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        server, port, capacity = start_sublarr(Path(tmp) / "data")
        bare, bare_port = start_bare(Path(tmp))
        try:
            key = (Path(tmp) / "data" / "api_key").read_text().strip()
            print(f"sublarr serve: {capacity}")
            print("1. Socket.IO fan-out (emit request -> each client's receipt)")
            for count in (100, 1000) if quick else (100, 1000, 5000):
                try:
                    held, latencies = asyncio.run(fan_out(port, key, count))
                except asyncio.TimeoutError:  # the machine is too busy (another bench?): say so, go on
                    print(f"   N={count:5d}: timed out connecting or receiving (is the machine busy?)")
                    continue
                p50 = statistics.median(latencies)
                p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
                print(
                    f"   N={count:5d}: held {held}, received {len(latencies)}, p50 {p50 * 1000:.0f} ms, "
                    f"p99 {p99 * 1000:.0f} ms"
                )
            p50, p99 = health_p99_with_half_open(port, 1000)
            print(f"2. /health, 1000 half-open held: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
            print("3. requests/s (bare Flask app, one route, same server settings = floor)")
            emit_body = json.dumps({"total": 1})
            emit_headers = {"X-Api-Key": key, "Content-Type": "application/json"}
            time.sleep(1)  # let the server finish closing the connections of 1. and 2.
            for threads in (1, 8, 32, 128):
                rate(port, "GET", "/api/v1/health", None, {}, 1, 0.3)  # warm-up
                floor = rate(bare_port, "GET", "/", None, {}, threads)
                health = rate(port, "GET", "/api/v1/health", None, {}, threads)
                emitted = rate(port, "POST", f"/api/v1/events/{EVENT}/emit", emit_body, emit_headers, threads)
                print(
                    f"   c={threads:3d}: bare {floor:6.0f}/s  /health {health:6.0f}/s ({health / floor:4.0%})"
                    f"   emit {emitted:6.0f}/s ({emitted / floor:4.0%})"
                )
        finally:
            for process in (server, bare):
                process.terminate()
                process.wait(30)


if __name__ == "__main__":
    main()
