"""The database file deleted or replaced while sublarr runs (issue 9).

sublarr's open connections would keep writing into the deleted file, answering 201 for
data that is gone at the next start. Now health reports it (the file's device and inode
changed, or it vanished) and every write is refused with 503 until the file is back or
sublarr restarts. Checked against a real ``sublarr serve`` and the Flask app.
"""

from __future__ import annotations

import signal

import requests
from test_serve_e2e import start_server

HOOK = {"name": "w", "event_name": "batch_complete", "url": "http://127.0.0.1:9/"}


def test_a_deleted_database_file_is_reported_and_writes_are_refused(tmp_path):
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        assert server.api("POST", "/webhooks", json=HOOK).status_code == 201
        assert server.api("POST", "/events/batch_complete/emit", json={}).status_code == 202
        (data_dir / "sublarr.db").unlink()

        health = requests.get(f"{server.url}/api/v1/health", timeout=10)
        assert health.status_code == 503
        assert health.json()["status"] == "degraded"
        reason = health.json()["checks"]["database"]
        assert reason.startswith("failing: the database file was deleted while sublarr runs"), reason
        assert str(data_dir) not in reason  # no path for anonymous callers

        for method, path, body in (
            ("POST", "/webhooks", {**HOOK, "name": "after"}),
            ("POST", "/events/batch_complete/emit", {"batch_id": "after"}),
            ("PUT", "/scoring/modifiers", {"modifiers": {"opensubtitles": 5}}),
        ):
            answer = server.api(method, path, json=body)
            assert answer.status_code == 503, (path, answer.text)
            assert answer.json()["error"] == "unavailable"
            assert "deleted" in answer.json()["detail"]
        assert not (data_dir / "sublarr.db").exists()  # no empty file made in its place
    finally:
        server.process.send_signal(signal.SIGINT)
        server.process.wait(timeout=30)
    log = "\n".join(server.output)
    assert "was deleted while sublarr runs" in log

    again = start_server(data_dir)
    try:
        assert requests.get(f"{again.url}/api/v1/health", timeout=10).status_code == 200
        # The file is new: nothing answered 2xx after the deletion was pretended to be kept.
        assert again.api("GET", "/webhooks").json()["webhooks"] == []
    finally:
        again.process.send_signal(signal.SIGINT)
        again.process.wait(timeout=30)


def test_a_replaced_database_file_refuses_writes_until_it_is_back(sublarr_app, api_client):
    data_dir = sublarr_app.extensions["sublarr.settings"].data_dir
    db = data_dir / "sublarr.db"
    assert api_client.post("/api/v1/webhooks", json=HOOK).status_code == 201
    aside = data_dir / "aside.db"
    db.rename(aside)
    db.write_bytes(aside.read_bytes())  # a copy in its place: another file (inode)

    health = api_client.get("/api/v1/health")
    assert health.status_code == 503
    assert health.json["checks"]["database"].startswith("failing: the database file was replaced")
    refused = api_client.post("/api/v1/webhooks", json={**HOOK, "name": "lost"})
    assert refused.status_code == 503 and refused.json["error"] == "unavailable"

    aside.replace(db)  # the very file is back
    assert api_client.get("/api/v1/health").json == {"status": "ok", "checks": {"database": "ok"}}
    assert api_client.post("/api/v1/webhooks", json={**HOOK, "name": "kept"}).status_code == 201
    names = [w["name"] for w in api_client.get("/api/v1/webhooks").json["webhooks"]]
    assert names == ["w", "kept"]


def test_the_delivery_dispatcher_reports_an_outage_once_and_its_end(sublarr_db, delivery_pool, caplog):
    """While the database cannot be used the dispatcher retries every poll, logging it once."""
    import logging
    import time
    from pathlib import Path

    from sqlalchemy.engine import make_url

    db = Path(make_url(sublarr_db).database or "")
    caplog.set_level(logging.WARNING, logger="sublarr.core.delivery.worker_pool")
    delivery_pool(SUBLARR_DELIVERY_POLL_INTERVAL="0.05", SUBLARR_DELIVERY_LEASE="0.3")
    aside = db.with_name("aside.db")
    db.rename(aside)  # the file vanishes: every query of the dispatcher fails
    time.sleep(1.0)  # ~20 polls and several maintenance rounds
    aside.rename(db)  # the very file is back
    time.sleep(0.5)

    messages = [r.getMessage() for r in caplog.records]
    errors = [m for m in messages if m.startswith("delivery dispatcher error")]
    assert len(errors) == 1, messages
    assert "the database file" in errors[0]
    assert [m for m in messages if m.startswith("delivery dispatcher works again")]
