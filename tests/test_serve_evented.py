"""The evented server: slow work, many clients and half-open connections never stall `sublarr serve`.

A real `sublarr serve` (Gunicorn's gevent worker) and real clients: a slow script, a slow
webhook receiver and a database write held up by a lock do not delay `/api/v1/health`; 300
Socket.IO clients all receive an event; 200 half-open connections neither stop `/health`
nor stay open past the read timeout; past SUBLARR_MAX_CONNECTIONS new connections get a 503.
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import statistics
import threading
import time
from collections.abc import Iterator

import pytest
import requests
import socketio
from test_serve_e2e import Server, start_server

from sublarr.core.web.server import READ_TIMEOUT_SECONDS

from conftest import free_port

FAST = 0.5  # seconds /health may take while the server is busy elsewhere


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("serve-evented") / "data")
    yield running
    if running.process.poll() is None:
        running.process.terminate()
        running.process.wait(20)


def health_times(server: Server, count: int = 10) -> list[float]:
    times = []
    for _ in range(count):
        started = time.monotonic()
        answer = requests.get(f"{server.url}/api/v1/health", timeout=10)
        times.append(time.monotonic() - started)
        assert answer.status_code == 200, answer.text
    return times


def half_open(server: Server) -> socket.socket:
    """A connection that sent half a request and waits."""
    port = int(server.url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")
    return sock


def test_banner_prints_the_capacity(server):
    (line,) = [line for line in server.banner if line.strip().startswith("capacity")]
    assert "connections at once" in line and "open files" in line, line


def test_a_slow_receiver_does_not_delay_health(server, webhook_receiver):
    webhook_receiver.respond(delay=3)
    created = server.api(
        "POST",
        "/webhooks",
        json={"name": "slow", "event_name": "batch_complete", "url": webhook_receiver.url},
    )
    assert created.status_code == 201, created.text
    try:
        assert server.api("POST", "/events/batch_complete/emit", json={"total": 1}).status_code == 202
        webhook_receiver.wait_for(1, timeout=10)  # the receiver holds the delivery 3 s
        assert max(health_times(server)) < FAST
    finally:
        server.api("DELETE", f"/webhooks/{created.json()['id']}")


def test_a_slow_script_does_not_delay_health(server):
    hooks = server.data_dir / "hooks"
    hooks.mkdir(mode=0o700, exist_ok=True)
    started_file = server.data_dir / "script-started"
    script = hooks / "slow.sh"
    script.write_text(f'#!/bin/sh\ntouch "{started_file}"\nsleep 3\n')
    script.chmod(0o700)
    created = server.api(
        "POST", "/hooks", json={"name": "slow", "event_name": "config_updated", "script_path": "slow.sh"}
    )
    assert created.status_code == 201, created.text
    try:
        assert server.api("POST", "/events/config_updated/emit", json={}).status_code == 202
        deadline = time.monotonic() + 10
        while not started_file.exists():
            assert time.monotonic() < deadline, "the script did not start:\n" + "\n".join(server.output)
            time.sleep(0.05)
        assert max(health_times(server)) < FAST
    finally:
        server.api("DELETE", f"/hooks/{created.json()['id']}")


def test_a_delivery_waiting_on_the_database_does_not_delay_health(server, webhook_receiver):
    webhook_receiver.respond(delay=1)
    created = server.api(
        "POST",
        "/webhooks",
        json={"name": "locked", "event_name": "upgrade_complete", "url": webhook_receiver.url},
    )
    assert created.status_code == 201, created.text
    lock = sqlite3.connect(server.data_dir / "sublarr.db", timeout=10, isolation_level=None)
    try:
        assert server.api("POST", "/events/upgrade_complete/emit", json={"title": "Heat"}).status_code == 202
        webhook_receiver.wait_for(1, timeout=10)
        lock.execute("BEGIN IMMEDIATE")  # the delivery's result write now waits for this lock
        time.sleep(1.2)  # the receiver has answered; the worker is stuck in SQLite's busy wait
        assert max(health_times(server)) < FAST
    finally:
        lock.execute("ROLLBACK")
        lock.close()
        server.api("DELETE", f"/webhooks/{created.json()['id']}")


def test_300_socketio_clients_all_receive_an_event(server):
    count = 300
    received = threading.Semaphore(0)
    clients: list[socketio.Client] = []
    try:
        for n in range(count):
            client = socketio.Client(reconnection=False)
            client.on("provider_search_complete", lambda data: received.release())
            transport = "polling" if n % 10 == 0 else "websocket"  # both transports, mostly WebSocket
            client.connect(server.url, transports=[transport], auth={"apikey": server.key}, wait_timeout=10)
            clients.append(client)
        times = health_times(server, 20)
        assert statistics.median(times) < 0.1 and max(times) < FAST, times
        fired = server.api("POST", "/events/provider_search_complete/emit", json={"title": "Dark"})
        assert fired.status_code == 202, fired.text
        deadline = time.monotonic() + 20
        for n in range(count):
            assert received.acquire(timeout=max(0.0, deadline - time.monotonic())), (
                f"only {n} of {count} got it"
            )
    finally:
        for client in clients:
            client.disconnect()


def test_200_half_open_connections_neither_stop_health_nor_stay_open(server):
    sockets = [half_open(server) for _ in range(200)]
    try:
        assert max(health_times(server)) < FAST
        opened = time.monotonic()
        for sock in sockets:
            sock.settimeout(max(0.1, opened + READ_TIMEOUT_SECONDS + 5 - time.monotonic()))
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(1024) == b""  # closed by the server, nothing answered
        assert time.monotonic() - opened < READ_TIMEOUT_SECONDS + 5
    finally:
        for sock in sockets:
            sock.close()


def test_connections_past_the_cap_get_a_503(tmp_path):
    port = free_port()
    config = tmp_path / "cfg.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\nport = {port}\nmax_connections = 10\n')
    capped = start_server(tmp_path / "data", ["serve", "--config", str(config)], port=port)
    sockets: list[socket.socket] = []
    try:
        assert any("capacity   10 connections" in line for line in capped.banner), capped.banner
        sockets = [half_open(capped) for _ in range(10)]
        time.sleep(0.3)
        refused = requests.get(f"{capped.url}/api/v1/health", timeout=5)
        assert refused.status_code == 503 and refused.json()["error"] == "unavailable", refused.text
        for sock in sockets:
            sock.close()
        deadline = time.monotonic() + 5
        while requests.get(f"{capped.url}/api/v1/health", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, "slots were not freed"
            time.sleep(0.1)
        assert any("connection limit (10) reached" in line for line in capped.output), capped.output
    finally:
        for sock in sockets:
            sock.close()
        capped.process.terminate()
        assert capped.process.wait(20) == 0, "\n".join(capped.output)
