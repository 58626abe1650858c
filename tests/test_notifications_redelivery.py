"""Recovering every failed delivery of a target since a time, and resending one, through API and CLI:
the receiver sees both attempts of each delivery with the same webhook-id."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from sublarr.core import emit_event
from sublarr.core.delivery import add_webhook, update_webhook
from sublarr.core.delivery import store as deliveries
from sublarr.core.delivery.notifications_admin import add_notification
from sublarr.core.delivery.recovery import parse_since, recover_failed
from sublarr.core.errors import ConflictError, NotFoundError, ValidationError

from conftest import wait_logs

EVENT = "subtitle_downloaded"


@pytest.fixture
def env(delivery_env, sublarr_db):
    return sublarr_db


def _fail_three(webhook_receiver, delivery_pool):
    """A webhook without retries whose first three deliveries fail; the first one is 'old'."""
    hook = add_webhook("r", EVENT, webhook_receiver.url, retry_count=0)
    webhook_receiver.script(500, 500, 500)
    delivery_pool()
    emit_event(EVENT, {"title": "old"})
    wait_logs(1)
    time.sleep(0.01)
    since = datetime.now(timezone.utc).isoformat()
    emit_event(EVENT, {"title": "a"})
    emit_event(EVENT, {"title": "b"})
    wait_logs(3)
    failed = deliveries.get_deliveries(status="failed")
    assert len(failed) == 3
    return hook, since


def test_recover_sends_failed_deliveries_since_a_time_again_with_the_same_ids(
    env, webhook_receiver, delivery_pool
):
    hook, since = _fail_three(webhook_receiver, delivery_pool)
    first_ids = [r.headers["webhook-id"] for r in webhook_receiver.wait_for(3)]
    result = recover_failed("webhook", hook["id"], since)
    assert len(result.requeued) == 2 and not result.skipped and not result.more
    requests = webhook_receiver.wait_for(5)
    time.sleep(0.3)
    titles = sorted(r.json["data"]["title"] for r in webhook_receiver.requests[3:])
    assert titles == ["a", "b"]  # not the old one
    by_id: dict[str, list[int]] = {}
    for request in requests:
        by_id.setdefault(request.headers["webhook-id"], []).append(request.status)
    # the receiver saw both attempts of each recovered delivery with the same webhook-id
    assert sorted(by_id[i] for i in result.requeued) == [[500, 200], [500, 200]]
    assert by_id[first_ids[0]] == [500]
    for delivery_id in result.requeued:
        assert deliveries.get_delivery(delivery_id)["status"] == "delivered"
        logs = wait_logs(2, webhook_id=hook["id"])
        assert [log["success"] for log in logs if log["delivery_id"] == delivery_id] == [True, False]
    again = recover_failed("webhook", hook["id"], since)
    assert again.requeued == []  # nothing failed any more


def test_recover_refuses_missing_disabled_targets_and_bad_times(env, webhook_receiver):
    hook = add_webhook("r", EVENT, webhook_receiver.url)
    with pytest.raises(NotFoundError):
        recover_failed("webhook", hook["id"] + 1, "1h")
    update_webhook(hook["id"], enabled=False)
    with pytest.raises(ConflictError, match="disabled"):
        recover_failed("webhook", hook["id"], "1h")
    with pytest.raises(ValidationError, match="not an ISO-8601 time"):
        recover_failed("webhook", hook["id"], "yesterday")
    with pytest.raises(ValidationError, match="kind"):
        recover_failed("email", hook["id"], "1h")


def test_parse_since():
    now = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    assert parse_since("2h", now) == "2026-11-28T10:00:00.000000+00:00"
    assert parse_since("7d", now) == "2026-11-21T12:00:00.000000+00:00"
    assert parse_since("2026-11-28T12:30:00Z") == "2026-11-28T12:30:00.000000+00:00"
    assert parse_since("2026-11-28T14:30:00+02:00") == "2026-11-28T12:30:00.000000+00:00"
    assert parse_since("2026-11-28 12:30") == "2026-11-28T12:30:00.000000+00:00"  # no zone: UTC
    assert parse_since(now - timedelta(minutes=5)) == "2026-11-28T11:55:00.000000+00:00"


def test_notifications_are_recovered_too(env, delivery_pool):
    import apprise

    sent: list[str] = []
    calls = {"n": 0}

    @apprise.decorators.notify(on="sublarrflaky", name="flaky")
    def _flaky(body, title, notify_type, meta, *args, **kwargs):
        calls["n"] += 1
        sent.append(title)
        return calls["n"] > 1  # the first send fails

    target = add_notification("n", "sublarrflaky://x", [EVENT], retry_count=0)
    delivery_pool()
    emit_event(EVENT, {"title": "x"})
    [log] = wait_logs(1)
    assert not log["success"]
    result = recover_failed("notification", target["id"], "1h")
    assert result.requeued == [log["delivery_id"]]
    logs = wait_logs(2)
    assert [entry["success"] for entry in logs] == [True, False]
    assert {entry["delivery_id"] for entry in logs} == {log["delivery_id"]}


def test_api_recover(api_client, webhook_receiver, delivery_pool, monkeypatch):
    monkeypatch.setenv("SUBLARR_WEBHOOK_RETRY_BASE", "0.05")
    created = api_client.post(
        "/api/v1/webhooks",
        json={"name": "r", "event_name": EVENT, "url": webhook_receiver.url, "retry_count": 0},
    ).get_json()
    webhook_receiver.script(500)
    delivery_pool()
    assert api_client.post(f"/api/v1/events/{EVENT}/emit", json={"title": "x"}).status_code == 202
    [failed] = wait_logs(1)
    response = api_client.post(
        "/api/v1/deliveries/recover", json={"kind": "webhook", "target_id": created["id"], "since": "1h"}
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    body = response.get_json()
    assert body["requeued"] == [failed["delivery_id"]] and body["count"] == 1 and body["more"] is False
    requests = webhook_receiver.wait_for(2)
    assert [r.headers["webhook-id"] for r in requests] == [failed["delivery_id"]] * 2
    missing = api_client.post(
        "/api/v1/deliveries/recover", json={"kind": "webhook", "target_id": created["id"] + 9, "since": "1h"}
    )
    assert missing.status_code == 404
    bad = api_client.post(
        "/api/v1/deliveries/recover", json={"kind": "webhook", "target_id": created["id"], "since": "soon"}
    )
    assert bad.status_code == 422 and "since" in json.dumps(bad.get_json()["detail"])
    api_client.put(f"/api/v1/webhooks/{created['id']}", json={"enabled": False})
    off = api_client.post(
        "/api/v1/deliveries/recover", json={"kind": "webhook", "target_id": created["id"], "since": "1h"}
    )
    assert off.status_code == 409


def test_cli_resend_and_recover(env, webhook_receiver, delivery_pool):
    from sublarr.core.cli.main import cli

    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    hook, since = _fail_three(webhook_receiver, delivery_pool)
    [old] = [row for row in deliveries.get_deliveries(status="failed") if row["created_at"] < since]
    out = run("deliveries", "resend", old["id"])
    assert out.startswith(f"queued again: {old['id']} (webhook {hook['id']}, {EVENT})")
    requests = webhook_receiver.wait_for(4)
    assert [r.headers["webhook-id"] for r in requests].count(old["id"]) == 2
    webhook_receiver.wait_for(4)
    result = json.loads(
        run("deliveries", "recover", "--webhook", str(hook["id"]), "--since", since, "--json")
    )
    assert len(result["requeued"]) == 2
    webhook_receiver.wait_for(6)
    assert "exactly one of" in run("deliveries", "recover", "--since", "1h", code=2)
    assert "no delivery 'msg_nope' is kept" in run("deliveries", "resend", "msg_nope", code=1)
