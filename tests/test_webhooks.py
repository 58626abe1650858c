"""Signed webhooks against a real HTTP receiver, on a real SQLite file, with a real worker pool."""

from __future__ import annotations

import json
import logging
import time

import pytest
import standardwebhooks

from sublarr.core import emit_event
from sublarr.core.db import hooks as store
from sublarr.core.delivery import (
    UrlRefusedError,
    add_webhook,
    fire,
    get_webhook,
    list_webhooks,
    public_webhook,
    update_webhook,
)
from sublarr.core.delivery import store as deliveries
from sublarr.core.delivery.subscriptions import cache
from sublarr.core.testing.receiver import Reply

from conftest import wait_logs


@pytest.fixture
def env(delivery_env, sublarr_db):
    """A fresh database (its URL), the built-in plugins, and short retry waits."""
    return sublarr_db


def test_deliveries_are_signed_enveloped_and_verify_with_standardwebhooks(
    env, webhook_receiver, delivery_pool
):
    hook = add_webhook("recv", "subtitle_downloaded", webhook_receiver.url)
    delivery_pool()
    event_id = emit_event("subtitle_downloaded", {"title": "Dark", "season": 1, "language": "de"})
    [request] = webhook_receiver.wait_for(1)
    envelope = standardwebhooks.Webhook(hook["secret"]).verify(request.body, request.headers)
    assert set(envelope) == {"id", "type", "version", "timestamp", "data"}
    assert envelope["type"] == "subtitle_downloaded" and envelope["version"] == 1
    assert envelope["data"]["title"] == "Dark" and envelope["data"]["language"] == "de"
    assert envelope["id"] == request.headers["webhook-id"] and envelope["id"].startswith("msg_")
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("sublarr/")
    assert request.headers["x-sublarr-event"] == "subtitle_downloaded"
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 10
    assert request.headers["webhook-signature"].startswith("v1,")
    [log] = wait_logs(1)
    assert log["success"] and log["status_code"] == 200 and log["webhook_id"] == hook["id"]
    row = deliveries.get_delivery(envelope["id"])
    assert row["status"] == "delivered" and row["event_id"] == event_id and row["attempts"] == 1


def test_wildcard_webhooks_get_every_event_but_hook_executed(env, webhook_receiver, delivery_pool):
    add_webhook("all", "*", webhook_receiver.url)
    add_webhook("meta", "hook_executed", webhook_receiver.url_for("/meta"))
    delivery_pool()
    emit_event("subtitle_downloaded", {"title": "Dark"})
    emit_event("config_updated", {"section": "scoring"})
    requests = webhook_receiver.wait_for(4)
    time.sleep(0.3)
    by_path: dict[str, list[str]] = {}
    for r in webhook_receiver.requests:
        by_path.setdefault(r.path, []).append(r.json["type"])
    assert sorted(by_path["/hook"]) == ["config_updated", "subtitle_downloaded"]
    assert by_path["/meta"] == ["hook_executed", "hook_executed"]  # none for the meta deliveries
    assert len(requests) == 4


def test_custom_headers_and_put(env, webhook_receiver, delivery_pool):
    hook = add_webhook(
        "put",
        "config_updated",
        webhook_receiver.url,
        method="put",
        headers={"Authorization": "Bearer s3cr3t-token", "X-Tenant": "home"},
    )
    assert get_webhook(hook["id"])["method"] == "PUT"
    delivery_pool()
    emit_event("config_updated", {"section": "scoring"})
    [request] = webhook_receiver.wait_for(1)
    assert request.method == "PUT"
    assert request.headers["authorization"] == "Bearer s3cr3t-token" and request.headers["x-tenant"] == "home"
    from sublarr.core.errors import ValidationError

    for bad in (
        {"Content-Type": "text/plain"}, {"X-Bad": "a\r\nInjected: 1"}, {"bad name": "x"}, {"X-Emoji": "☃"},
    ):  # fmt: skip
        with pytest.raises(ValidationError):
            add_webhook("bad", "*", webhook_receiver.url, headers=bad)
    with pytest.raises(ValidationError):
        add_webhook("bad", "*", webhook_receiver.url, method="DELETE")


def test_retries_back_off_and_keep_the_delivery_id(env, webhook_receiver, delivery_pool):
    hook = add_webhook("flaky", "subtitle_downloaded", webhook_receiver.url, retry_count=3)
    webhook_receiver.secret = hook["secret"]
    webhook_receiver.script(503, 500, 200)
    delivery_pool(SUBLARR_WEBHOOK_RETRY_BASE="0.2")
    emit_event("subtitle_downloaded", {"title": "Dark"})
    requests = webhook_receiver.wait_for(3)
    assert [r.status for r in requests] == [503, 500, 200]
    assert len({r.webhook_id for r in requests}) == 1 and all(r.verified for r in requests)
    gaps = [b.received_at - a.received_at for a, b in zip(requests, requests[1:])]
    assert gaps[0] >= 0.2 * 0.8 - 0.02 and gaps[1] >= 0.8 * 0.8 - 0.02 and gaps[1] > gaps[0]
    logs = wait_logs(3)
    assert [(log["success"], log["status_code"]) for log in reversed(logs)] == [
        (False, 503),
        (False, 500),
        (True, 200),
    ]
    row = deliveries.get_delivery(requests[0].webhook_id)
    assert (row["status"], row["attempts"]) == ("delivered", 3)
    stored = store.get_webhook_config(hook["id"])
    assert stored["consecutive_failures"] == 0 and stored["trigger_count"] == 3


def test_retry_after_is_honoured(env, webhook_receiver, delivery_pool):
    add_webhook("busy", "subtitle_downloaded", webhook_receiver.url, retry_count=2)
    webhook_receiver.script(Reply(429, headers={"Retry-After": "1"}), 200)
    delivery_pool()
    emit_event("subtitle_downloaded", {"title": "Dark"})
    first, second = webhook_receiver.wait_for(2)
    assert second.received_at - first.received_at >= 0.95
    assert second.status == 200


def test_timeouts_and_connection_errors_are_retried(env, webhook_receiver, delivery_pool):
    hook = add_webhook("slow", "subtitle_downloaded", webhook_receiver.url, retry_count=1, timeout_seconds=1)
    webhook_receiver.script(Reply(200, delay=1.5), 200)
    refused = add_webhook("down", "subtitle_downloaded", "http://127.0.0.1:9/none", retry_count=2)
    delivery_pool()
    emit_event("subtitle_downloaded", {"title": "Dark"})
    requests = webhook_receiver.wait_for(2)
    assert requests[0].webhook_id == requests[1].webhook_id
    slow_logs = wait_logs(2, webhook_id=hook["id"])
    assert "timed out" in slow_logs[-1]["error"] and slow_logs[0]["success"]
    down_logs = wait_logs(3, webhook_id=refused["id"])
    assert all("connection failed" in log["error"] for log in down_logs)
    assert store.get_webhook_config(refused["id"])["consecutive_failures"] == 1


def test_other_4xx_are_not_retried(env, webhook_receiver, delivery_pool):
    hook = add_webhook("strict", "subtitle_downloaded", webhook_receiver.url, retry_count=5)
    webhook_receiver.respond(422, body=b"unprocessable")
    pool = delivery_pool()
    emit_event("subtitle_downloaded", {"title": "Dark"})
    webhook_receiver.wait_for(1)
    assert pool.wait_idle(5)
    assert len(webhook_receiver.requests) == 1
    [log] = store.get_hook_logs(webhook_id=hook["id"])
    assert log["status_code"] == 422 and "unprocessable" in log["error"]
    assert deliveries.get_delivery(webhook_receiver.requests[0].webhook_id)["status"] == "failed"


def test_410_disables_the_webhook_at_once(env, webhook_receiver, delivery_pool, event_recorder):
    hook = add_webhook("gone", "subtitle_downloaded", webhook_receiver.url, retry_count=5)
    webhook_receiver.respond(410)
    pool = delivery_pool()
    emit_event("subtitle_downloaded", {"title": "Dark"})
    [disabled] = event_recorder.wait_for("webhook_disabled")
    assert disabled.payload["webhook_id"] == hook["id"] and disabled.payload["status_code"] == 410
    assert "410" in disabled.payload["reason"] and disabled.payload["name"] == "gone"
    stored = get_webhook(hook["id"])
    assert stored["enabled"] is False and "410" in stored["disabled_reason"]
    emit_event("subtitle_downloaded", {"title": "Dark"})
    assert pool.wait_idle(5)
    assert len(webhook_receiver.requests) == 1  # no retry, and nothing for the second event
    # Re-enabling clears the reason and the count; deliveries flow again.
    webhook_receiver.respond(200)
    update_webhook(hook["id"], enabled=True)
    assert get_webhook(hook["id"])["disabled_reason"] == ""
    emit_event("subtitle_downloaded", {"title": "Dark"})
    webhook_receiver.wait_for(2)


def test_consecutive_failures_disable_at_the_threshold_and_success_resets(
    env, webhook_receiver, delivery_pool, event_recorder
):
    hook = add_webhook("bad", "config_updated", webhook_receiver.url, retry_count=0)
    pool = delivery_pool(SUBLARR_WEBHOOK_FAILURE_THRESHOLD="3")

    def deliver(status: int) -> None:
        webhook_receiver.respond(status)
        count = len(webhook_receiver.requests)
        emit_event("config_updated", {"section": "x"})
        webhook_receiver.wait_for(count + 1)
        assert pool.wait_idle(5)

    deliver(500)
    deliver(500)
    assert store.get_webhook_config(hook["id"])["consecutive_failures"] == 2
    deliver(200)
    assert store.get_webhook_config(hook["id"])["consecutive_failures"] == 0
    event_recorder.assert_not_emitted("webhook_disabled")
    deliver(500)
    deliver(400)
    deliver(503)
    [disabled] = event_recorder.wait_for("webhook_disabled")
    assert disabled.payload["consecutive_failures"] == 3 and disabled.payload["webhook_id"] == hook["id"]
    assert get_webhook(hook["id"])["enabled"] is False
    emit_event("config_updated", {"section": "x"})
    assert pool.wait_idle(5)
    assert len(webhook_receiver.requests) == 6


def test_denied_networks_are_refused_at_save_and_at_delivery(env, webhook_receiver, delivery_pool):
    with pytest.raises(UrlRefusedError, match="169.254.0.0/16"):
        add_webhook("metadata", "*", "http://169.254.169.254/latest/meta-data")
    # Stored behind the pipeline's back: refused when delivering, and not retried.
    raw = store.create_webhook_config("raw", "subtitle_downloaded", "http://169.254.169.254/x", retry_count=3)
    pool = delivery_pool()
    emit_event("subtitle_downloaded", {"title": "Dark"})
    [log] = wait_logs(1)
    assert pool.wait_idle(5)
    assert log["webhook_id"] == raw["id"] and not log["success"] and "denied network" in log["error"]
    assert len(store.get_hook_logs(webhook_id=raw["id"])) == 1
    # Loopback stays allowed by default; a configured deny-list can forbid it.
    result = fire.test_webhook(add_webhook("local", "*", webhook_receiver.url)["id"])
    assert result.success
    from sublarr.core.settings import load_settings

    strict = load_settings({"SUBLARR_WEBHOOK_DENY_NETWORKS": "127.0.0.0/8"})
    result = fire.test_webhook(2, settings=strict)
    assert not result.success and "denied network 127.0.0.0/8" in result.error


def test_secrets_never_reach_logs_hook_log_or_events(
    env, webhook_receiver, delivery_pool, event_recorder, caplog
):
    caplog.set_level(logging.DEBUG)
    token = "tok-9f8e7d6c5b4a"
    hook = add_webhook(
        "auth",
        "subtitle_downloaded",
        webhook_receiver.url_for(f"/h?token={token}"),
        retry_count=1,
        headers={"Authorization": f"Bearer {token}"},
    )
    secret = hook["secret"]
    webhook_receiver.respond(500, body=f"bad credentials: Bearer {token} / {secret}".encode())
    pool = delivery_pool()
    emit_event("subtitle_downloaded", {"title": "Dark"})
    webhook_receiver.wait_for(2)
    assert pool.wait_idle(5)
    fire.test_webhook(hook["id"])
    logs = store.get_hook_logs(limit=100)
    assert len(logs) == 3 and all("***" in log["error"] for log in logs)
    everything = json.dumps(logs) + caplog.text + json.dumps([e.payload for e in event_recorder.events])
    assert token not in everything and secret not in everything
    listed = json.dumps(list_webhooks())
    assert secret not in listed and f"Bearer {token}" not in listed and '"Authorization": "****"' in listed


def test_emit_returns_before_a_slow_receiver_answers(env, webhook_receiver, delivery_pool):
    add_webhook("slow", "subtitle_downloaded", webhook_receiver.url)
    webhook_receiver.respond(delay=2)
    delivery_pool()
    emit_event("subtitle_downloaded", {"title": "warm-up"})  # first lookup opens the cache
    started = time.perf_counter()
    emit_event("subtitle_downloaded", {"title": "Dark"})
    elapsed = time.perf_counter() - started
    assert elapsed < 0.2, f"emit_event took {elapsed:.3f}s"
    webhook_receiver.wait_for(2, timeout=5)
    assert time.perf_counter() - started < 2  # both sent in parallel while emit had long returned
    webhook_receiver.stop()  # abandon the slow answers instead of waiting for them at teardown


def test_listings_mask_the_secret_header_values_and_url_credentials(env):
    url = "http://alice:pa55word@127.0.0.1:9/h?token=t0ken-1&x=1"
    hook = add_webhook("m", "*", url, headers={"Authorization": "Bearer abc"})
    shown = public_webhook(get_webhook(hook["id"]))
    assert shown["url"] == "http://alice:****@127.0.0.1:9/h?token=****&x=1"
    assert shown["headers"] == {"Authorization": "****"}
    assert shown["secret"].startswith("whsec_********") and hook["secret"] not in str(shown)
    assert list_webhooks() == [shown]
    assert get_webhook(hook["id"])["url"] == url  # stored as given


def test_test_webhook_fires_once_now_with_a_sample(env, webhook_receiver):
    hook = add_webhook("t", "translation_complete", webhook_receiver.url, retry_count=3)
    update_webhook(hook["id"], enabled=False)  # disabled webhooks can be tested too
    webhook_receiver.script(503)
    result = fire.test_webhook(hook["id"])
    assert not result.success and result.status_code == 503 and result.outcome == "failed"
    result = fire.test_webhook(hook["id"])
    assert result.success and result.status_code == 200 and result.duration_ms > 0
    first, second = webhook_receiver.wait_for(2)
    envelope = standardwebhooks.Webhook(hook["secret"]).verify(second.body, second.headers)
    assert envelope["type"] == "test" and envelope["data"]["target_language"] == "de"
    assert first.webhook_id != second.webhook_id
    logs = store.get_hook_logs(webhook_id=hook["id"])
    assert [log["event_name"] for log in logs] == ["test", "test"] and logs[0]["id"] == result.log_id
    stored = store.get_webhook_config(hook["id"])
    assert stored["trigger_count"] == 0 and stored["consecutive_failures"] == 0


def test_subscriptions_are_cached_and_invalidated_on_writes(env, webhook_receiver, delivery_pool):
    pool = delivery_pool()
    emit_event("wanted_scan_complete", {"total_items": 1})
    queries = cache.queries
    for _ in range(20):
        emit_event("wanted_scan_complete", {"total_items": 1})
    assert cache.queries == queries  # no subscriber: no query after the first
    hook = add_webhook("new", "wanted_scan_complete", webhook_receiver.url)
    emit_event("wanted_scan_complete", {"total_items": 2})
    [request] = webhook_receiver.wait_for(1)
    assert request.json["data"]["total_items"] == 2
    store.update_webhook_config(hook["id"], enabled=False)  # storage CRUD invalidates too
    emit_event("wanted_scan_complete", {"total_items": 3})
    assert pool.wait_idle(5)
    assert len(webhook_receiver.requests) == 1
    assert deliveries.count_deliveries() == {"delivered": 1}


def test_kept_alive_connections_survive_a_receiver_restart(env):
    from sublarr.core.delivery.webhook_sender import WebhookSender
    from sublarr.core.testing.receiver import WebhookReceiver

    sender = WebhookSender()
    first = WebhookReceiver().start()
    port = first.server.server_address[1]
    try:
        assert sender.send(url=first.url, body=b"{}", event_name="e", msg_id="m1").success
    finally:
        first.stop()
    second = WebhookReceiver(port=port).start()
    try:
        result = sender.send(url=second.url, body=b"{}", event_name="e", msg_id="m2")
        assert result.success, result.error  # the stale kept-alive socket was replaced once
        assert [r.webhook_id for r in second.requests] == [None]  # unsigned: no secret given
    finally:
        second.stop()
        sender.close()


def test_url_credentials_become_basic_auth_and_stay_out_of_errors(env, webhook_receiver):
    from sublarr.core.delivery.webhook_sender import WebhookSender

    url = webhook_receiver.url.replace("http://", "http://alice:pa55word@") + "?key=qs-secret-1"
    sender = WebhookSender()
    webhook_receiver.respond(500, body=b"rejected pa55word qs-secret-1")
    result = sender.send(url=url, body=b"{}", event_name="e", msg_id="m")
    [request] = webhook_receiver.wait_for(1)
    assert request.headers["authorization"] == "Basic YWxpY2U6cGE1NXdvcmQ="
    assert request.path == "/hook?key=qs-secret-1"
    assert "pa55word" not in result.error and "qs-secret-1" not in result.error
    sender.close()


def test_a_request_that_cannot_be_encoded_fails_without_retry(env, webhook_receiver):
    from sublarr.core.delivery.webhook_sender import WebhookSender

    sender = WebhookSender()
    result = sender.send(
        url=webhook_receiver.url, body=b"{}", event_name="e", msg_id="m", headers={"X-A": "☃"}
    )
    assert not result.success and not result.retryable and "invalid request" in result.error
    assert webhook_receiver.requests == []
    sender.close()
