"""Socket.IO against a real `sublarr serve`: the key in the standard `auth` payload, the envelope."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import engineio
import pytest
import socketio
from test_serve_e2e import Server, start_server

from sublarr.core.web.server import UNAUTHENTICATED_SECONDS


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("serve-socketio") / "data")
    yield running
    if running.process.poll() is None:
        running.process.terminate()
        running.process.wait(20)


@pytest.mark.parametrize("transport", ["websocket", "polling"])
@pytest.mark.parametrize("field", ["apikey", "token"])
def test_auth_payload_connects_and_events_carry_id_and_timestamp(server, transport, field):
    client = socketio.Client(reconnection=False)
    got = threading.Event()
    messages: list[dict] = []

    @client.on("batch_complete")
    def on_batch(data):
        messages.append(data)
        got.set()

    client.connect(server.url, transports=[transport], auth={field: server.key}, wait_timeout=10)
    try:
        assert client.transport() == transport
        fired = server.api("POST", "/events/batch_complete/emit", json={"total": 3})
        assert fired.status_code == 202, fired.text
        assert got.wait(10), "no Socket.IO message"
    finally:
        client.disconnect()
    (message,) = messages
    assert message["total"] == 3
    assert message["event_id"] == fired.json()["event_id"]
    assert message["timestamp"].endswith("+00:00")


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_query_key_connects(server, transport):
    client = socketio.Client(reconnection=False)
    client.connect(f"{server.url}?apikey={server.key}", transports=[transport], wait_timeout=10)
    assert client.connected
    client.disconnect()


@pytest.mark.parametrize("transport", ["websocket", "polling"])
@pytest.mark.parametrize(
    "how",
    [
        {},
        {"auth": {"apikey": "wrong"}},
        {"auth": {"token": "wrong"}},
        {"auth": {"apikey": 42}},
        {"auth": "not a mapping"},
        {"headers": {"X-Api-Key": "wrong"}},
    ],
    ids=["nothing", "wrong-apikey", "wrong-token", "not-a-string", "not-a-mapping", "wrong-header"],
)
def test_wrong_or_missing_key_is_refused(server, transport, how):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, transports=[transport], wait_timeout=5, **how)
    assert not client.connected
    client.disconnect()


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_session_without_the_key_is_closed(server, transport):
    """An Engine.IO session that never connects to a namespace (no key) does not hold a slot."""
    client = engineio.Client()
    closed = threading.Event()
    client.on("disconnect", lambda *args: closed.set())
    client.connect(server.url, transports=[transport], engineio_path="socket.io")
    try:
        started = time.monotonic()
        assert closed.wait(UNAUTHENTICATED_SECONDS * 2 + 5), "the session stayed open"
        assert time.monotonic() - started >= UNAUTHENTICATED_SECONDS / 2
    finally:
        client.disconnect()
