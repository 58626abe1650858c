"""A request body over the limit is 413 however it is sent, chunked too (issue 9).

Against the Flask app (werkzeug test client, chunked input stream without a length) and
against a real `sublarr serve` (Gunicorn) with http.client sending Transfer-Encoding: chunked.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import VENV_BIN, free_port

EMIT = "/api/v1/events/subtitle_downloaded/emit"
LIMIT = 1024 * 1024


def _body(size: int) -> bytes:
    return b'{"title": "' + b"x" * size + b'"}'


def _chunked(client, body: bytes, **headers):
    return client.post(
        EMIT,
        input_stream=io.BytesIO(body),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked", **headers},
    )


def _assert_too_large(status: int, payload: dict) -> None:
    assert status == 413, payload
    assert payload["error"] == "payload_too_large"
    assert str(LIMIT) in payload["detail"]


@pytest.mark.parametrize("size", [10_000_000, LIMIT])
def test_a_chunked_body_over_the_limit_is_413(api_client, size):
    response = _chunked(api_client, _body(size))
    _assert_too_large(response.status_code, response.get_json())


def test_a_chunked_body_within_the_limit_is_read_like_any_other(api_client, event_recorder):
    response = _chunked(api_client, _body(LIMIT - 100))
    assert response.status_code == 202, response.get_json()
    assert len(event_recorder.last("subtitle_downloaded").payload["title"]) == LIMIT - 100


def test_a_content_length_over_the_limit_is_413_without_reading_it(api_client):
    response = api_client.post(EMIT, data=_body(LIMIT), content_type="application/json")
    _assert_too_large(response.status_code, response.get_json())


def test_the_key_is_checked_before_the_body(sublarr_app):
    response = _chunked(sublarr_app.test_client(), _body(10_000_000))
    assert response.status_code == 401


# -- a real server -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[int, str]]:
    data_dir: Path = tmp_path_factory.mktemp("serve-body") / "data"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUBLARR_")}
    env["SUBLARR_LOAD_PLUGINS"] = "sublarr"  # the built-ins only
    process = subprocess.Popen(
        [str(VENV_BIN / "sublarr"), "serve", "--port", str(port), "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(process.stdout), daemon=True).start()
    deadline = time.monotonic() + 30
    while not any("Press Ctrl-C" in line for line in output):
        assert process.poll() is None, "server exited:\n" + "".join(output)
        assert time.monotonic() < deadline, "server did not start:\n" + "".join(output)
        time.sleep(0.05)
    try:
        yield port, (data_dir / "api_key").read_text().strip()
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _send_chunked(port: int, key: str, size: int) -> tuple[int, dict]:
    """POST a chunked body of about ``size`` bytes; the answer, even if the server stops reading."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("POST", EMIT)
        conn.putheader("X-Api-Key", key)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        body = _body(size)
        step = 65536
        try:
            for start in range(0, len(body), step):
                part = body[start : start + step]
                conn.send(b"%x\r\n%s\r\n" % (len(part), part))
            conn.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and stopped reading: the answer is what counts
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


@pytest.mark.parametrize("size", [10_000_000, 100_000_000])
def test_sublarr_serve_answers_413_to_a_chunked_body_over_the_limit(served, size):
    port, key = served
    _assert_too_large(*_send_chunked(port, key, size))


def test_sublarr_serve_takes_a_small_chunked_body(served):
    port, key = served
    status, payload = _send_chunked(port, key, 100)
    assert status == 202, payload
    assert payload["event"] == "subtitle_downloaded"
