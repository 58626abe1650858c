"""End to end: `sublarr serve` as a subprocess, a real python-socketio client, a real webhook receiver.

One server per module (it takes a second or two to start); the tests run in order against
it and the last one stops it with SIGINT, as Ctrl-C would, and checks the drain.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import socketio

from sublarr.core.delivery.signing import generate_secret

from conftest import VENV_BIN, free_port, run_sublarr

START_TIMEOUT = 30


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    key: str
    data_dir: Path
    banner: list[str]
    output: list[str] = field(default_factory=list)

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"X-Api-Key": self.key, **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.url}/api/v1{path}", headers=headers, timeout=10, **kwargs)


def _read_lines(stream, sink: list[str]) -> None:
    for line in stream:
        sink.append(line.rstrip("\n"))


def start_server(
    data_dir: Path,
    args: list[str] | None = None,
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
) -> Server:
    """Run `sublarr serve` on a free port (or `sublarr *args` on ``port``); return once it is up.

    ``extra_env`` is added to the server's environment last (e.g. PYTHONPATH, SUBLARR_LOAD_PLUGINS).
    """
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUBLARR_")}
    env.update({"SUBLARR_DELIVERY_POLL_INTERVAL": "0.2", "SUBLARR_LOAD_PLUGINS": "sublarr"})
    env.update(extra_env or {})
    if args is None:
        args = ["serve", "--port", str(port), "--data-dir", str(data_dir)]
    process = subprocess.Popen(
        [str(VENV_BIN / "sublarr"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    output: list[str] = []
    threading.Thread(target=_read_lines, args=(process.stdout, output), daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    while not any("Press Ctrl-C" in line for line in output):
        assert process.poll() is None, "server exited:\n" + "\n".join(output)
        assert time.monotonic() < deadline, "server did not start:\n" + "\n".join(output)
        time.sleep(0.05)
    key_line = next(line for line in output if line.strip().startswith("API key"))
    key = (data_dir / "api_key").read_text().strip() if " in " in key_line else key_line.split()[-1]
    return Server(process, f"http://127.0.0.1:{port}", key, data_dir, list(output), output)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("serve") / "data")
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait(10)


def test_startup_prints_url_data_and_the_new_key_once(server):
    text = "\n".join(server.banner)
    assert f"listening on {server.url}" in text
    assert f"{server.url}/api/v1/openapi.json" in text
    assert str(server.data_dir) in text
    assert re.fullmatch(r"[0-9a-f]{32}", server.key)
    key_file = server.data_dir / "api_key"
    assert key_file.read_text().strip() == server.key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (server.data_dir / "sublarr.db").is_file()
    open_line = next(line for line in server.banner if line.strip().startswith("open"))
    link = open_line.split()[-1]  # what a new user clicks first: the web page, signed in
    assert link == f"{server.url}/#apikey={server.key}"  # the key in the fragment, never sent
    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert f"{server.url}/docs" in text


def test_health_openapi_and_auth(server):
    health = requests.get(f"{server.url}/api/v1/health", timeout=10)
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "checks": {"database": "ok", "delivery": "running"}}
    assert "Werkzeug" not in health.headers.get("Server", "")

    spec = server.api("GET", "/openapi.json")
    assert spec.status_code == 200 and "/api/v1/hooks/{hook_id}/test" in spec.json()["paths"]
    anonymous = requests.get(f"{server.url}/api/v1/openapi.json", timeout=10)
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "unauthorized"
    assert requests.get(f"{server.url}/api/v1/plugins?apikey={server.key}", timeout=10).status_code == 200


def test_socketio_polling_with_the_key(server):
    client = socketio.Client(reconnection=False)
    got = threading.Event()
    client.on("batch_complete", lambda data: got.set())
    client.connect(server.url, transports=["polling"], headers={"X-Api-Key": server.key}, wait_timeout=10)
    try:
        assert client.transport() == "polling"
        assert server.api("POST", "/events/batch_complete/emit", json={"total": 3}).status_code == 202
        assert got.wait(10), "no Socket.IO message over long-polling"
    finally:
        client.disconnect()


def test_socketio_without_key_is_refused(server):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, transports=["websocket"], wait_timeout=5)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, transports=["polling"], headers={"X-Api-Key": "wrong"}, wait_timeout=5)


LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: "
)


def test_one_log_format_and_no_forged_lines(server):
    forged = "2099-01-01T00:00:00+0000 ERROR sublarr.core.web.server: forged"
    answer = requests.post(
        f"{server.url}/api/v1/webhook/sonarr?apikey={server.key}",
        json={"eventType": f"Test\n{forged}", "series": {"title": "Dark"}},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + 10
    while not any("forged" in line for line in server.output) and time.monotonic() < deadline:
        time.sleep(0.05)
    (logged,) = [line for line in server.output if "forged" in line]
    assert LOG_LINE.match(logged) and "Test\\n2099-01-01" in logged, logged
    assert not any(line.startswith("2099-") for line in server.output)
    # Gunicorn's lines and sublarr's share the format; the banner is the only other output.
    logs = [line for line in server.output if LOG_LINE.match(line)]
    assert any(" INFO gunicorn.error: Booting worker" in line for line in logs), logs
    assert any(" INFO sublarr.core.delivery.worker_pool: " in line for line in logs), logs
    others = [line for line in server.output if not LOG_LINE.match(line)]
    strays = [line for line in others if not line.startswith(("sublarr 0", "  ", "Press Ctrl-C"))]
    assert others and not strays, strays


def test_event_reaches_socketio_and_a_signed_webhook(server, webhook_receiver):
    receiver = webhook_receiver
    secret = generate_secret()
    receiver.secret = secret
    created = server.api(
        "POST",
        "/webhooks",
        json={
            "name": "e2e",
            "event_name": "subtitle_downloaded",
            "url": receiver.url,
            "secret": secret,
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["secret"] != secret

    client = socketio.Client(reconnection=False)
    got = threading.Event()
    messages: list[dict] = []

    @client.on("subtitle_downloaded")
    def on_downloaded(data):
        messages.append(data)
        got.set()

    client.connect(server.url, transports=["websocket"], headers={"X-Api-Key": server.key}, wait_timeout=10)
    try:
        assert client.transport() == "websocket"
        fired = server.api(
            "POST",
            "/events/subtitle_downloaded/emit",
            json={"title": "Dark", "season": 1, "episode": 1, "language": "de"},
        )
        assert fired.status_code == 202, fired.text
        assert got.wait(10), "no Socket.IO message"
    finally:
        client.disconnect()
    assert messages[0]["title"] == "Dark" and messages[0]["language"] == "de"

    (request,) = receiver.wait_for(1, timeout=15)
    assert request.verified is True, request.verify_error
    assert request.json["type"] == "subtitle_downloaded"
    assert request.json["data"]["title"] == "Dark"
    assert request.webhook_id

    logs = server.api("GET", f"/hooks/logs?webhook_id={created.json()['id']}").json()
    deadline = time.monotonic() + 10
    while not logs["logs"] and time.monotonic() < deadline:  # the log row follows the delivery
        time.sleep(0.1)
        logs = server.api("GET", f"/hooks/logs?webhook_id={created.json()['id']}").json()
    assert len(logs["logs"]) == 1 and logs["next_cursor"] is None, logs
    assert logs["logs"][0]["success"] is True and logs["logs"][0]["status_code"] == 200, logs


def test_ctrl_c_drains_a_running_delivery_and_exits_cleanly(server, webhook_receiver):
    webhook_receiver.respond(delay=1.5)
    created = server.api(
        "POST",
        "/webhooks",
        json={
            "name": "slow",
            "event_name": "upgrade_complete",
            "url": webhook_receiver.url,
        },
    )
    assert created.status_code == 201, created.text
    client = socketio.Client(reconnection=False)
    client.connect(server.url, transports=["websocket"], headers={"X-Api-Key": server.key}, wait_timeout=10)
    assert server.api("POST", "/events/upgrade_complete/emit", json={"title": "Heat"}).status_code == 202
    webhook_receiver.wait_for(1, timeout=10)  # the delivery is in flight, the receiver holds it 1.5 s

    started = time.monotonic()
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=20) == 0, "\n".join(server.output)
    elapsed = time.monotonic() - started
    assert elapsed < 15, f"shutdown took {elapsed:.1f}s:\n" + "\n".join(server.output)
    assert server.output.count("sublarr stopped.") == 1, "\n".join(server.output)  # master only

    with sqlite3.connect(server.data_dir / "sublarr.db") as db:
        rows = db.execute(
            "SELECT success, status_code FROM hook_log WHERE event_name = ?", ("upgrade_complete",)
        ).fetchall()
    assert rows == [(1, 200)], rows  # the in-flight delivery finished before the exit
    client.disconnect()


def test_the_key_is_printed_once_and_never_logged(server):
    assert server.process.poll() is not None  # all output is in
    with_key = [line for line in server.output if server.key in line]
    assert with_key and all(line in server.banner for line in with_key)
    assert [line.split()[0] for line in with_key] == ["API", "open"]


def test_second_start_keeps_the_key_unprinted_and_sigterm_stops_it(server):
    assert server.process.poll() is not None  # the module's server was stopped above
    again = start_server(server.data_dir)
    try:
        text = "\n".join(again.banner)
        assert server.key not in text
        assert f"API key    in {server.data_dir / 'api_key'}" in text
        assert again.key == server.key
        assert again.api("GET", "/webhooks").json()["webhooks"][0]["name"] == "e2e"  # same database
        again.process.send_signal(signal.SIGTERM)
        assert again.process.wait(timeout=20) == 0, "\n".join(again.output)
        assert again.output.count("sublarr stopped.") == 1
    finally:
        if again.process.poll() is None:
            again.process.kill()


def test_server_and_command_line_with_one_config_file_share_the_database(tmp_path):
    """`sublarr serve --config cfg.toml` and `sublarr --config cfg.toml weights set`: one database."""
    port = free_port()
    config = tmp_path / "cfg.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\nport = {port}\nscoring_cache_ttl = 0\n')
    server = start_server(tmp_path / "data", ["serve", "--config", str(config)], port=port)
    try:
        assert f"  data       {tmp_path / 'data'}" in server.banner
        out = run_sublarr("--config", str(config), "weights", "set", "hash=111")
        assert out.returncode == 0, out.stderr
        with sqlite3.connect(tmp_path / "data" / "sublarr.db") as db:
            stored = db.execute("SELECT weight_key, weight_value FROM scoring_weights").fetchall()
        assert stored == [("hash", 111)]
        weights = server.api("GET", "/scoring/weights").json()
        assert weights["stored"]["episode"] == {"hash": 111}, weights
        assert weights["effective"]["episode"]["hash"] == 111, weights

        # Without flags, from the default config file: the same database again.
        home = tmp_path / "xdg-config"
        (home / "sublarr").mkdir(parents=True)
        shutil.copy(config, home / "sublarr" / "sublarr.toml")
        shown = run_sublarr("weights", "show", "--json", env={"XDG_CONFIG_HOME": str(home)})
        assert shown.returncode == 0, shown.stderr
        assert next(w for w in json.loads(shown.stdout)["episode"] if w["key"] == "hash")["value"] == 111
    finally:
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=20) == 0, "\n".join(server.output)
