"""Nothing repeats without bound, and what a script prints or a receiver answers is stored (issue 9).

On PostgreSQL a NUL character in a script's output or a receiver's answer made writing the
log row fail; the delivery was then retried as an internal error every 30 s with no limit
and never logged. Now text bound for the log and the queue has NUL replaced by U+FFFD on
every database, an attempt that fails inside sublarr counts against the retry limit like
any failure, and a NUL in text a request looks up is a 4xx on PostgreSQL too.

The app tests run on SQLite and on the suite's PostgreSQL (``SUBLARR_TEST_POSTGRES_URL``;
skipped loudly without it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sublarr.core.testing.pytest_plugin import ONLY_BUILTINS
from sublarr.core.testing.receiver import Reply

from conftest import wait_logs

NUL_SCRIPT = "#!/bin/sh\nprintf 'out\\000put'\nprintf 'err\\000or' >&2\nexit 0\n"


@dataclass
class Served:
    app: Any
    client: Any
    hooks_dir: Path
    dialect: str


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request, plugin_manager, tmp_path, monkeypatch) -> Iterator[Served]:
    """The sublarr app on SQLite, then on PostgreSQL, with a hooks dir and short retry waits."""
    from sublarr.core.db import dispose_db, get_engine
    from sublarr.core.web.app_factory import create_app

    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path / 'sublarr.db'}"
    hooks_dir = tmp_path / "hooks"
    hooks_dir.mkdir()
    for key, value in {
        "SUBLARR_DATABASE_URL": url,
        "SUBLARR_HOOKS_DIR": str(hooks_dir),
        "SUBLARR_WEBHOOK_RETRY_BASE": "0.05",
        "SUBLARR_DELIVERY_POLL_INTERVAL": "0.1",
    }.items():
        monkeypatch.setenv(key, value)
    dispose_db()
    app = create_app({"TESTING": True, "SUBLARR_DATA_DIR": str(tmp_path / "data"), **ONLY_BUILTINS})
    assert get_engine().dialect.name == request.param
    client = app.test_client()
    client.environ_base["HTTP_X_API_KEY"] = app.extensions["sublarr.api_key"].value
    yield Served(app, client, hooks_dir, request.param)
    dispose_db()


def _script(served: Served, text: str) -> dict:
    path = served.hooks_dir / "nul.sh"
    path.write_text(text)
    path.chmod(0o755)
    created = served.client.post(
        "/api/v1/hooks", json={"name": "nul", "event_name": "batch_complete", "script_path": str(path)}
    )
    assert created.status_code == 201, created.json
    return created.json


def _delivery_of(kind: str, target_id: int) -> dict:
    from sublarr.core.delivery import store

    [delivery] = store.get_deliveries(kind=kind, target_id=target_id)
    return delivery


def test_a_script_printing_nul_is_logged_once(served, delivery_pool):
    from sublarr.core import emit_event

    hook = _script(served, NUL_SCRIPT)
    delivery_pool()
    emit_event("batch_complete", {"batch_id": "1"})
    [log] = wait_logs(1, hook_id=hook["id"])
    assert (log["success"], log["stdout"], log["stderr"]) == (True, "out\ufffdput", "err\ufffdor")
    time.sleep(0.5)
    delivery = _delivery_of("script", hook["id"])
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 1)
    assert len(wait_logs(1, hook_id=hook["id"])) == 1


def test_testing_a_script_printing_nul_answers_its_result(served):
    hook = _script(served, NUL_SCRIPT)
    answer = served.client.post(f"/api/v1/hooks/{hook['id']}/test")
    assert answer.status_code == 200, answer.json
    assert answer.json["success"] is True and answer.json["log_id"] is not None
    [log] = wait_logs(1, hook_id=hook["id"])
    assert log["stdout"] == "out\ufffdput"


def test_a_receiver_answering_nul_with_no_retries_gets_one_request(served, webhook_receiver, delivery_pool):
    from sublarr.core import emit_event

    created = served.client.post(
        "/api/v1/webhooks",
        json={"name": "r", "event_name": "batch_complete", "url": webhook_receiver.url, "retry_count": 0},
    )
    assert created.status_code == 201, created.json
    webhook_receiver.script(Reply(500, body=b"broken\x00answer"))
    delivery_pool()
    emit_event("batch_complete", {"batch_id": "1"})
    [log] = wait_logs(1, webhook_id=created.json["id"])
    assert log["success"] is False and log["status_code"] == 500
    assert "\x00" not in log["error"] and "broken\ufffdanswer" in log["error"], log["error"]
    time.sleep(1.0)
    assert len(webhook_receiver.requests) == 1
    delivery = _delivery_of("webhook", created.json["id"])
    assert (delivery["status"], delivery["attempts"]) == ("failed", 1)
    assert "\x00" not in delivery["last_error"]


def test_a_nul_in_a_name_looked_up_is_a_client_error(served):
    answer = served.client.delete("/api/v1/scoring/modifiers/a%00b")
    # SQLite stores NUL, so nothing matches (404); PostgreSQL cannot hold it at all (422).
    expected = 422 if served.dialect == "postgresql" else 404
    assert answer.status_code == expected, answer.json
    if expected == 422:
        detail = "text must not contain NUL (\\0) characters"
        assert answer.json == {"error": "validation_error", "detail": detail}


def test_an_attempt_that_raises_counts_against_the_retry_limit(served, webhook_receiver, delivery_pool):
    from sublarr.core.delivery import store

    created = served.client.post(
        "/api/v1/webhooks",
        json={"name": "r", "event_name": "batch_complete", "url": webhook_receiver.url, "retry_count": 1},
    )
    webhook_id = created.json["id"]
    # A row that cannot be run (its payload is not JSON): each attempt raises inside sublarr.
    store.enqueue_deliveries([("webhook", webhook_id)], "batch_complete", "e1", "t", "{not json")
    delivery_pool()
    logs = wait_logs(2, webhook_id=webhook_id)
    time.sleep(0.5)
    assert len(wait_logs(2, webhook_id=webhook_id)) == 2  # retry_count 1: two attempts, then no more
    assert all(log["error"].startswith("internal error: JSONDecodeError") for log in logs), logs
    delivery = _delivery_of("webhook", webhook_id)
    assert (delivery["status"], delivery["attempts"]) == ("failed", 2)
    assert webhook_receiver.requests == []


def test_reschedule_fails_a_delivery_whose_attempts_are_used_up(delivery_env):
    """The worker pool's last resort (the attempt could not even be recorded) counts too."""
    from sublarr.core.delivery import add_webhook, store

    hook = add_webhook("w", "batch_complete", "http://127.0.0.1:9/", retry_count=2)
    [delivery_id] = store.enqueue_deliveries([("webhook", hook["id"])], "batch_complete", "e", "t", "{}")
    seen = []
    for _ in range(3):
        [row] = store.claim_deliveries("host:1:a", 1, 60)
        seen.append(store.reschedule(row["id"], "host:1:a", 0.0, "internal error"))
    assert seen == ["pending", "pending", "failed"]
    delivery = store.get_delivery(delivery_id)
    assert (delivery["status"], delivery["attempts"]) == ("failed", 3)
    assert store.claim_deliveries("host:1:a", 1, 60) == []

    [script_delivery] = store.enqueue_deliveries([("script", 99)], "batch_complete", "e", "t", "{}")
    store.claim_deliveries("host:1:a", 1, 60)
    assert store.reschedule(script_delivery, "host:1:a", 0.0, "internal error") == "failed"
