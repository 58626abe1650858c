"""The built-in SocketIO bridge: every catalog event reaches WebSocket clients."""

from __future__ import annotations

import re
import threading

import pytest
import socketio as python_socketio
from flask import Flask
from flask_socketio import SocketIO
from werkzeug.serving import make_server

from sublarr.core import EVENT_CATALOG, Sublarr, emit_event, hookimpl
from sublarr.core.events import init_event_system

from conftest import free_port


def test_every_catalog_event_reaches_a_test_client(sublarr_app, socketio_client):
    for name in EVENT_CATALOG:
        emit_event(name, {})
    received = socketio_client.get_received()
    assert [m["name"] for m in received] == list(EVENT_CATALOG)


def test_payload_travels_unchanged(sublarr_app, socketio_client):
    emit_event("subtitle_downloaded", {"title": "Dark", "season": 1, "language": "de"})
    (message,) = socketio_client.get_received()
    assert message["name"] == "subtitle_downloaded"
    assert message["args"][0]["title"] == "Dark"
    assert message["args"][0]["language"] == "de"


def test_plugin_events_are_bridged_too(sublarr_app, socketio_client, register_plugin):
    class Events:
        @hookimpl
        def register_events(self, register):
            register("myplugin.ping", "Ping", "", ["n"])

    register_plugin(Events(), name="myplugin")
    event_id = emit_event("myplugin.ping", {"n": 3})
    (message,) = socketio_client.get_received()
    timestamp = message["args"][0].get("timestamp", "")
    assert message == {
        "name": "myplugin.ping",
        "args": [{"n": 3, "event_id": event_id, "timestamp": timestamp}],
        "namespace": "/",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", timestamp), timestamp


def test_host_app_with_init_app_and_the_plan_alias(plugin_manager, caplog):
    app = Flask("host")
    socketio = SocketIO(app, async_mode="threading")
    ext = Sublarr()
    ext.init_app(app, socketio)
    assert app.extensions["sublarr"] is ext
    client = socketio.test_client(app)
    with caplog.at_level("DEBUG", logger="sublarr.plugins.socketio_bridge"):
        emit_event("batch_complete", {"total": 2})
    assert client.get_received()[0]["args"][0]["total"] == 2
    assert "bridged event batch_complete" in caplog.text

    other = Flask("legacy")
    other_io = SocketIO(other, async_mode="threading")
    assert isinstance(init_event_system(other, other_io), Sublarr)
    other_client = other_io.test_client(other)
    emit_event("config_updated", {"section": "general"})
    assert other_client.get_received()[0]["name"] == "config_updated"


def test_without_the_bridge_nothing_is_sent(monkeypatch, plugin_manager, sublarr_app, socketio_client):
    plugin_manager.unregister(name="socketio_bridge")
    emit_event("config_updated", {})
    assert socketio_client.get_received() == []


@pytest.fixture
def live_server(sublarr_app):
    port = free_port()
    server = make_server("127.0.0.1", port, sublarr_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_real_client_against_a_real_server(live_server, api_key, transport):
    client = python_socketio.Client(reconnection=False)
    got = threading.Event()
    received = {}

    @client.on("provider_search_complete")
    def on_search(data):
        received.update(data)
        got.set()

    client.connect(live_server, transports=[transport], wait_timeout=10, headers={"X-Api-Key": api_key})
    try:
        emit_event("provider_search_complete", {"title": "Dark", "result_count": 12})
        assert got.wait(10), "no Socket.IO message arrived"
    finally:
        client.disconnect()
    assert received["title"] == "Dark" and received["result_count"] == 12
