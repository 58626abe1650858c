"""API key: generated once into the data dir (0600), required everywhere but /health, for Socket.IO too."""

from __future__ import annotations

import json
import os
import stat

import pytest

from sublarr.core.web import create_app
from sublarr.core.web.api_auth import key_matches, load_or_create_api_key

API = "/api/v1"
UNAUTHORIZED = {"error": "unauthorized", "detail": "a valid API key is required (X-Api-Key header or apikey)"}


def test_key_file_is_made_once_owner_only(tmp_path):
    data = tmp_path / "data"
    first = load_or_create_api_key(data)
    assert first.generated and len(first.value) == 32
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    second = load_or_create_api_key(data)
    assert second.value == first.value and not second.generated


def test_key_file_readable_by_others_is_narrowed(tmp_path, caplog):
    key = load_or_create_api_key(tmp_path)
    key.path.chmod(0o644)
    with caplog.at_level("WARNING"):
        again = load_or_create_api_key(tmp_path)
    assert again.value == key.value
    assert stat.S_IMODE(key.path.stat().st_mode) == 0o600
    assert "readable by others" in caplog.text


def test_configured_key_writes_no_file(tmp_path):
    key = load_or_create_api_key(tmp_path, "my-own-key-123456")
    assert key.value == "my-own-key-123456" and key.path is None
    assert not (tmp_path / "api_key").exists()


def test_key_matches():
    assert key_matches("abc", "abc")
    assert not key_matches("abc", "abd")
    assert not key_matches("abc", "ab")
    assert not key_matches("abc", None)
    assert not key_matches("abc", "")
    assert not key_matches("abc", "\udcff")  # undecodable input is just wrong, not an error


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/events/catalog"),
        ("post", "/api/v1/events/subtitle_downloaded/emit"),
        ("get", "/api/v1/hooks"),
        ("delete", "/api/v1/hooks/logs"),
        ("get", "/api/v1/webhooks/1"),
        ("put", "/api/v1/scoring/weights"),
        ("get", "/api/v1/plugins"),
        ("get", "/api/v1/openapi.json"),
        ("post", "/api/v1/webhook/sonarr"),
        ("get", "/api/v1/no/such/route"),
        ("post", "/"),  # GET / is the web page (tests/test_web_page_files.py): no data, no key
        ("get", "/ui/../api/v1/hooks"),
    ],
)
def test_every_route_but_health_needs_the_key(sublarr_app, api_key, method, path):
    client = sublarr_app.test_client()
    for headers in ({}, {"X-Api-Key": "wrong"}, {"X-Api-Key": api_key[:-1]}, {"X-Api-Key": api_key + "x"}):
        response = getattr(client, method)(path, headers=headers)
        assert response.status_code == 401
        assert response.get_json() == UNAUTHORIZED  # the same answer whatever the route
    separator = "&" if "?" in path else "?"
    assert getattr(client, method)(f"{path}{separator}apikey=wrong").status_code == 401


def test_header_or_query_key_opens_the_api(sublarr_app, api_key):
    client = sublarr_app.test_client()
    assert client.get(f"{API}/plugins", headers={"X-Api-Key": api_key}).status_code == 200
    assert client.get(f"{API}/plugins?apikey={api_key}").status_code == 200
    assert client.get(f"{API}/health").status_code == 200


def test_socketio_handshake_passes_to_the_connect_check_which_refuses_without_the_key(sublarr_app, api_key):
    client = sublarr_app.test_client()
    handshake = "/socket.io/?EIO=4&transport=polling"
    for headers in ({"X-Api-Key": "wrong"}, {"X-Api-Key": api_key + "x"}):
        assert client.get(handshake, headers=headers).get_json() == UNAUTHORIZED
    assert client.get(handshake + "&apikey=wrong").status_code == 401
    opened = client.get(handshake)  # no key yet: Socket.IO clients send it in the connect's auth
    assert opened.status_code == 200
    sid = json.loads(opened.get_data(as_text=True)[1:])["sid"]
    session = f"{handshake}&sid={sid}"
    assert client.post(session, data='40{"apikey": "wrong"}').status_code == 200
    refused = client.get(session).get_data(as_text=True)
    assert refused.startswith("44") and "unauthorized" in refused, refused
    assert client.post(session, data=f'40{{"token": "{api_key}"}}').status_code == 200
    connected = client.get(session).get_data(as_text=True)
    assert connected.startswith("40") and '"sid"' in connected, connected


def test_socketio_connect_needs_the_key(sublarr_app, api_key):
    socketio = sublarr_app.extensions["socketio"]
    assert not socketio.test_client(sublarr_app).is_connected()
    assert not socketio.test_client(sublarr_app, auth={"apikey": "wrong"}).is_connected()
    assert socketio.test_client(sublarr_app, auth={"apikey": api_key}).is_connected()
    assert socketio.test_client(sublarr_app, auth={"token": api_key}).is_connected()
    assert not socketio.test_client(sublarr_app, auth={"token": "wrong"}).is_connected()
    assert socketio.test_client(sublarr_app, query_string=f"apikey={api_key}").is_connected()
    assert socketio.test_client(sublarr_app, headers={"X-Api-Key": api_key}).is_connected()


def test_key_from_settings_wins(plugin_manager, tmp_path, monkeypatch):
    monkeypatch.setenv("SUBLARR_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    app = create_app({"SUBLARR_DATA_DIR": str(tmp_path / "d"), "SUBLARR_API_KEY": "configured-key-0001"})
    client = app.test_client()
    assert client.get(f"{API}/plugins", headers={"X-Api-Key": "configured-key-0001"}).status_code == 200
    assert not os.path.exists(tmp_path / "d" / "api_key")
    from sublarr.core.db import dispose_db

    dispose_db()
