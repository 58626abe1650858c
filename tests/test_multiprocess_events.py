"""Events from other processes reach a server's Socket.IO clients: real servers, real Redis.

Through Redis (``SUBLARR_MESSAGE_QUEUE``): two ``sublarr serve`` processes; a client of one
gets what is emitted through the other's API and what ``sublarr emit`` publishes, each once.
Without Redis (the embedded default): ``sublarr emit`` in another process on the same data
dir reaches a client of the server within 1 s (``sublarr.core.events.relay``).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import requests
import socketio
from test_serve_e2e import START_TIMEOUT, Server, _read_lines

from conftest import VENV_BIN, free_port

API_KEY = "multiprocess-test-key-0123456789"


def start(
    args: list[str], env: dict[str, str], ready: str = "Press Ctrl-C"
) -> tuple[subprocess.Popen, list[str]]:
    """Run ``sublarr *args`` with ``env`` (over a clean environment); return once ``ready`` is printed."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SUBLARR_")}
    full_env.update({"SUBLARR_LOAD_PLUGINS": "sublarr", "SUBLARR_API_KEY": API_KEY, **env})
    process = subprocess.Popen(
        [str(VENV_BIN / "sublarr"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=full_env,
    )
    output: list[str] = []
    threading.Thread(target=_read_lines, args=(process.stdout, output), daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    while not any(ready in line for line in output):
        assert process.poll() is None, f"sublarr {args[0]} exited:\n" + "\n".join(output)
        assert time.monotonic() < deadline, f"sublarr {args[0]} did not start:\n" + "\n".join(output)
        time.sleep(0.05)
    return process, output


def start_serve(data_dir: Path, env: dict[str, str], *extra: str) -> Server:
    port = free_port()
    process, output = start(["serve", "--port", str(port), "--data-dir", str(data_dir), *extra], env)
    return Server(process, f"http://127.0.0.1:{port}", API_KEY, data_dir, list(output), output)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


class Listener:
    """A python-socketio client that records ``batch_complete`` messages with their arrival time."""

    def __init__(self, server: Server) -> None:
        self.client = socketio.Client(reconnection=False)
        self.messages: list[tuple[float, dict]] = []
        self.executed: list[dict] = []  # hook_executed: emitted by a delivery worker thread
        self._cond = threading.Condition()
        self.client.on("batch_complete", self._got)
        self.client.on("hook_executed", self.executed.append)
        self.client.connect(
            server.url, transports=["websocket"], auth={"apikey": server.key}, wait_timeout=10
        )

    def _got(self, data: dict) -> None:
        with self._cond:
            self.messages.append((time.time(), data))
            self._cond.notify_all()

    def of_batch(self, batch_id: str) -> list[tuple[float, dict]]:
        with self._cond:
            return [(at, m) for at, m in self.messages if m.get("batch_id") == batch_id]

    def wait_batch(self, batch_id: str, count: int = 1, timeout: float = 10.0) -> list[tuple[float, dict]]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.of_batch(batch_id)) >= count, timeout)
        return self.of_batch(batch_id)

    def close(self) -> None:
        self.client.disconnect()


def emit_from_cli(data_dir: Path, env: dict[str, str], batch_id: str) -> str:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SUBLARR_")}
    full_env.update({"SUBLARR_LOAD_PLUGINS": "sublarr", **env})
    done = subprocess.run(
        [
            str(VENV_BIN / "sublarr"),
            "--data-dir",
            str(data_dir),
            "emit",
            "batch_complete",
            f"batch_id={batch_id}",
        ],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout.strip()


# ---- through Redis -----------------------------------------------------------------------------


@pytest.fixture
def two_servers(redis_url, tmp_path) -> Iterator[tuple[Server, Server]]:
    env = {"SUBLARR_MESSAGE_QUEUE": redis_url}
    one = start_serve(tmp_path / "one", env)
    try:
        two = start_serve(tmp_path / "two", env, "--no-workers")
    except BaseException:
        stop(one.process)
        raise
    yield one, two
    stop(one.process)
    stop(two.process)


def test_two_servers_share_events_through_redis(two_servers, redis_url, tmp_path, webhook_receiver):
    one, two = two_servers
    created = one.api(
        "POST", "/webhooks", json={"name": "r", "event_name": "batch_complete", "url": webhook_receiver.url}
    )
    assert created.status_code == 201, created.text
    assert any("SUBLARR_MESSAGE_QUEUE" in line for line in one.banner)
    health = requests.get(f"{two.url}/api/v1/health", timeout=10).json()
    assert health == {"status": "ok", "checks": {"database": "ok", "message_queue": "ok"}}
    listener = Listener(one)
    other = Listener(two)
    try:
        # Through the other server's API.
        via_api = uuid.uuid4().hex
        fired = two.api("POST", "/events/batch_complete/emit", json={"batch_id": via_api})
        assert fired.status_code == 202, fired.text
        [(_, message)] = listener.wait_batch(via_api)
        assert message["event_id"] == fired.json()["event_id"]
        # From a process with no server at all: `sublarr emit` publishes on Redis.
        via_cli = uuid.uuid4().hex
        event_id = emit_from_cli(tmp_path / "cli", {"SUBLARR_MESSAGE_QUEUE": redis_url}, via_cli)
        [(_, message)] = listener.wait_batch(via_cli)
        assert message["event_id"] == event_id
        # Order of one emitting process is kept, and each client gets each event once.
        batch = uuid.uuid4().hex
        for n in range(20):
            assert one.api("POST", "/events/batch_complete/emit", json={"batch_id": batch, "total": n}).ok
        got = listener.wait_batch(batch, 20)
        seen_by_other = other.wait_batch(batch, 20)
        time.sleep(0.5)  # a duplicate would arrive by now
        assert [m["total"] for _, m in listener.of_batch(batch)] == list(range(20))
        assert [m["total"] for _, m in other.of_batch(batch)] == list(range(20))
        assert len(got) == len(seen_by_other) == 20
        assert len(listener.of_batch(via_api)) == len(other.of_batch(via_api)) == 1
        assert len(listener.of_batch(via_cli)) == len(other.of_batch(via_cli)) == 1
        # Server one's delivery worker (an OS thread under gevent) emitted hook_executed per
        # delivery; through Redis server two's client got them too.
        webhook_receiver.wait_for(20)  # the 20 emitted through server one's API
        delivered = set(webhook_receiver.ids())
        deadline = time.monotonic() + 10
        while len(other.executed) < len(delivered) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert {m["delivery_id"] for m in other.executed} == delivered
        assert {m["delivery_id"] for m in listener.executed} == delivered
    finally:
        listener.close()
        other.close()


def test_a_process_without_a_server_publishes_in_emit_order(redis_url, sublarr_db):
    """``emit_event`` in a process without a Socket.IO server goes out through a write-only emitter."""
    from sublarr.core import emit_event
    from sublarr.core.plugin_manager import SublarrPluginManager, set_plugin_manager
    from sublarr.core.settings import load_settings

    pm = SublarrPluginManager(
        load_settings({"SUBLARR_LOAD_PLUGINS": "sublarr", "SUBLARR_MESSAGE_QUEUE": redis_url})
    )
    from sublarr.plugins.socketio_bridge import bridge

    bridge.forget()  # Socket.IO servers of earlier tests' apps: this process has none
    previous = set_plugin_manager(pm)
    pm.load_entry_points()
    seen: list[dict] = []
    unsubscribe = _subscribe(redis_url, seen)
    try:
        batch = uuid.uuid4().hex
        for n in range(50):
            emit_event("batch_complete", {"batch_id": batch, "total": n})
        deadline = time.monotonic() + 5
        while len([m for m in seen if m.get("batch_id") == batch]) < 50 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [m["total"] for m in seen if m.get("batch_id") == batch] == list(range(50))
    finally:
        unsubscribe()
        set_plugin_manager(previous)


def _subscribe(redis_url: str, sink: list[dict]):
    """Listen on Flask-SocketIO's channel like a server's listener; return a stop function."""
    import json

    import redis

    pubsub = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe("flask-socketio")
    stopping = threading.Event()

    def run() -> None:
        while not stopping.is_set():
            message = pubsub.get_message(timeout=0.1)
            if message and message["type"] == "message":
                data = json.loads(message["data"])
                if data.get("method") == "emit" and data.get("event") == "batch_complete":
                    sink.append(data["data"][0])

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(0.2)

    def close() -> None:
        stopping.set()
        thread.join(2)
        pubsub.close()

    return close


def test_a_bad_message_queue_url_is_refused(tmp_path):
    from conftest import run_sublarr

    done = run_sublarr(
        "--data-dir", str(tmp_path), "emit", "batch_complete", env={"SUBLARR_MESSAGE_QUEUE": "http://x"}
    )
    assert done.returncode == 1
    assert done.stderr.startswith("Error: SUBLARR_MESSAGE_QUEUE: expected a redis://"), done.stderr
    assert "Traceback" not in done.stderr


# ---- embedded: no Redis, one data dir ------------------------------------------------------------


@pytest.fixture
def embedded_server(tmp_path) -> Iterator[Server]:
    server = start_serve(tmp_path / "data", {"SUBLARR_DELIVERY_POLL_INTERVAL": "0.2"})
    yield server
    stop(server.process)


def test_sublarr_emit_reaches_a_client_of_the_server_within_a_second(embedded_server):
    listener = Listener(embedded_server)
    try:
        for _ in range(3):
            batch = uuid.uuid4().hex
            event_id = emit_from_cli(embedded_server.data_dir, {}, batch)
            [(arrived, message)] = listener.wait_batch(batch, timeout=5)
            assert message["event_id"] == event_id
            emitted = datetime.fromisoformat(message["timestamp"]).timestamp()
            assert arrived - emitted < 1.0, f"took {arrived - emitted:.3f} s"
        # The server's own events are not relayed a second time.
        own = uuid.uuid4().hex
        assert embedded_server.api("POST", "/events/batch_complete/emit", json={"batch_id": own}).ok
        listener.wait_batch(own)
        time.sleep(0.6)
        assert len(listener.of_batch(own)) == 1
    finally:
        listener.close()


def test_the_follower_delivers_each_row_once_in_order_and_waits_for_gaps(sublarr_db):
    """Unit-level: ids committed out of order (PostgreSQL) are delivered once each."""
    from sqlalchemy import insert

    from sublarr.core.db import get_engine
    from sublarr.core.db.models import RecentEvent
    from sublarr.core.events import relay

    got: list[tuple[str, dict]] = []
    follower = relay.EventFollower(lambda name, message: got.append((name, message)))
    assert follower.poll() == 0  # starts at the newest row: no replay
    relay.append_event("batch_complete", {"total": 1})
    row = {"created_at": time.time(), "origin": "elsewhere:1:x", "event_name": "batch_complete"}
    with get_engine().begin() as conn:  # id 3 visible before id 2, as two PostgreSQL commits can be
        conn.execute(insert(RecentEvent).values(id=3, message='{"total": 3}', **row))
    # Rows this process appended are skipped (the bridge sent them itself): only id 3.
    assert follower.poll() == 1
    assert follower.floor == 1  # waiting for id 2
    with get_engine().begin() as conn:
        conn.execute(insert(RecentEvent).values(id=2, message='{"total": 2}', **row))
    assert follower.poll() == 1
    assert follower.poll() == 0
    assert [m["total"] for _, m in got] == [3, 2]
    assert follower.floor == 3
    assert relay.prune_events(now=time.time() + relay.KEEP_SECONDS + 1) == 3


def test_a_server_whose_redis_is_gone_says_so_in_health(tmp_path):
    """No Redis listens: the server still serves, and /health is degraded with the reason."""
    server = start_serve(tmp_path / "data", {"SUBLARR_MESSAGE_QUEUE": f"redis://127.0.0.1:{free_port()}/0"})
    try:
        answer = requests.get(f"{server.url}/api/v1/health", timeout=10)
        assert answer.status_code == 503
        assert (
            answer.json()["checks"]["message_queue"] == "failing: the message queue (Redis) does not answer"
        )
        fired = server.api("POST", "/events/batch_complete/emit", json={"total": 1})
        assert fired.status_code == 202  # the event's hooks and webhooks are queued regardless
    finally:
        stop(server.process)
    assert not any("Traceback" in line for line in server.output), "\n".join(server.output)


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["worker"]])
def test_without_the_redis_package_serve_and_worker_refuse_to_start(tmp_path, command):
    import sys

    code = "import sys; sys.modules['redis'] = None; from sublarr.core.cli import main; main(sys.argv[1:])"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUBLARR_")}
    env.update({"SUBLARR_MESSAGE_QUEUE": "redis://127.0.0.1:6379/0", "SUBLARR_DATA_DIR": str(tmp_path)})
    done = subprocess.run(
        [sys.executable, "-c", code, *command], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 1
    assert "Error: SUBLARR_MESSAGE_QUEUE needs the redis package: pip install 'sublarr[redis]'" in done.stderr
    assert "Traceback" not in done.stderr
