"""Notification targets through Apprise: real sends to a loopback receiver (json://, form://) and to a
local Apprise plugin that needs no network, through the real queue, retries, log and auto-disable."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import parse_qs

import apprise
import pytest

from sublarr.core import emit_event
from sublarr.core.db.hooks import get_hook_logs
from sublarr.core.delivery import store as deliveries
from sublarr.core.delivery.notification_sender import check_apprise_url, mask_apprise_url, redact_url
from sublarr.core.delivery.notifications_admin import (
    add_notification,
    get_notification,
    list_notifications,
    remove_notification,
    test_notification,
    update_notification,
)
from sublarr.core.errors import NotFoundError, ValidationError

from conftest import run_sublarr, wait_logs

API = "/api/v1"
EVENT = "subtitle_downloaded"
TOKEN = "t0kenS3cretXYZ"
PAYLOAD = {"series_title": "Dark", "season": 1, "episode": 3, "language": "de", "score": 350}

# A local Apprise service that needs no network: Apprise calls this function for
# sublarrlocal:// URLs, as it would call any of its plugins.
LOCAL_SENT: list[dict] = []


@apprise.decorators.notify(on="sublarrlocal", name="sublarr test target")
def _local_target(body, title, notify_type, meta, *args, **kwargs):
    LOCAL_SENT.append({"title": title, "body": body, "host": meta.get("host")})
    return not str(meta.get("host", "")).startswith("fail")


@pytest.fixture
def env(delivery_env, sublarr_db):
    LOCAL_SENT.clear()
    return sublarr_db


def _json_url(receiver, path=f"/notify/{TOKEN}"):
    return receiver.url_for(path).replace("http://", "json://")


def test_apprise_delivers_for_real_to_a_loopback_receiver(
    env, webhook_receiver, delivery_pool, event_recorder
):
    target = add_notification(
        "loopback",
        _json_url(webhook_receiver),
        [EVENT],
        title_template="{{ payload.series_title }} S{{ payload.season }}E{{ payload.episode }}",
        body_template="{{ event_label }} [{{ payload.language }}] score {{ payload.score }} ({{ id }})",
    )
    delivery_pool()
    emit_event(EVENT, PAYLOAD)
    emit_event("batch_complete", {"batch_id": "b"})  # not subscribed
    [request] = webhook_receiver.wait_for(1)
    assert request.path == f"/notify/{TOKEN}" and request.method == "POST"
    body = request.json  # Apprise's json:// shape
    assert body["title"] == "Dark S1E3" and body["type"] == "info"
    [log] = wait_logs(1)
    assert body["message"] == f"Subtitle downloaded [de] score 350 ({log['delivery_id']})"
    assert log["hook_type"] == "notification" and log["notification_id"] == target["id"]
    assert log["success"] and log["hook_id"] is None and log["webhook_id"] is None
    assert deliveries.get_delivery(log["delivery_id"])["status"] == "delivered"
    executed = event_recorder.wait_for("hook_executed")[0].payload
    assert executed["hook_type"] == "notification" and executed["hook_name"] == "loopback"
    assert executed["delivery_id"] == log["delivery_id"] and executed["success"] is True
    assert get_notification(target["id"])["trigger_count"] == 1
    time.sleep(0.2)
    assert len(webhook_receiver.requests) == 1


def test_form_scheme_and_default_templates(env, webhook_receiver, delivery_pool):
    add_notification("form", webhook_receiver.url_for("/form").replace("http://", "form://"), ["*"])
    delivery_pool()
    emit_event(EVENT, PAYLOAD)
    [request] = webhook_receiver.wait_for(1)
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = parse_qs(request.body.decode())
    assert form["title"] == ["Subtitle downloaded"] and form["type"] == ["info"]
    assert form["message"][0].startswith("Subtitle downloaded: Dark S1E3 [de] score 350\n\n")
    assert "language: de" in form["message"][0].splitlines()


def test_a_local_apprise_target_needing_no_network(env, delivery_pool):
    add_notification("local", "sublarrlocal://inbox", [EVENT, "batch_complete"])
    delivery_pool()
    emit_event(EVENT, PAYLOAD)
    emit_event("batch_complete", {"batch_id": "b7", "total": 3})
    wait_logs(2)
    titles = sorted(sent["title"] for sent in LOCAL_SENT)
    assert titles == ["Batch complete", "Subtitle downloaded"]
    body = next(s["body"] for s in LOCAL_SENT if s["title"] == "Subtitle downloaded")
    assert body.startswith("Subtitle downloaded: Dark S1E3 [de] score 350")
    assert all(sent["host"] == "inbox" for sent in LOCAL_SENT)


def test_failures_are_retried_with_the_same_delivery_and_redacted(
    env, webhook_receiver, delivery_pool, caplog
):
    caplog.set_level(logging.DEBUG)
    webhook_receiver.script(500, 503)
    add_notification("flaky", _json_url(webhook_receiver), [EVENT], retry_count=3)
    delivery_pool()
    emit_event(EVENT, PAYLOAD)
    webhook_receiver.wait_for(3)
    logs = wait_logs(3)
    assert [log["success"] for log in reversed(logs)] == [False, False, True]
    assert len({log["delivery_id"] for log in logs}) == 1
    assert "500" in logs[-1]["error"] or "error" in logs[-1]["error"].lower()
    row = deliveries.get_delivery(logs[0]["delivery_id"])
    assert row["status"] == "delivered" and row["attempts"] == 3
    everything = json.dumps(get_hook_logs(limit=100)) + caplog.text
    assert TOKEN not in everything


def test_auto_disable_after_the_failure_threshold(env, delivery_pool, monkeypatch):
    monkeypatch.setenv("SUBLARR_WEBHOOK_FAILURE_THRESHOLD", "2")
    target = add_notification("down", "sublarrlocal://fail", [EVENT], retry_count=0)
    delivery_pool()
    emit_event(EVENT, PAYLOAD)
    wait_logs(1)
    emit_event(EVENT, PAYLOAD)
    wait_logs(2)
    deadline = time.monotonic() + 5
    while get_notification(target["id"])["enabled"] and time.monotonic() < deadline:
        time.sleep(0.02)
    shown = get_notification(target["id"])
    assert not shown["enabled"] and shown["consecutive_failures"] == 2
    assert shown["disabled_reason"] == "2 deliveries in a row failed"
    emit_event(EVENT, PAYLOAD)  # disabled: nothing queued
    time.sleep(0.3)
    assert len(get_hook_logs(limit=10)) == 2
    enabled = update_notification(target["id"], enabled=True)
    assert enabled["enabled"] and enabled["consecutive_failures"] == 0 and enabled["disabled_reason"] == ""


def test_filters_on_notification_targets(env, delivery_pool):
    target = add_notification(
        "de only", "sublarrlocal://x", [EVENT], filters=[{"field": "language", "op": "==", "value": "de"}]
    )
    delivery_pool()
    emit_event(EVENT, {**PAYLOAD, "language": "en"})
    emit_event(EVENT, PAYLOAD)
    logs = wait_logs(2)
    filtered = [log for log in logs if log["error"].startswith("filtered:")]
    assert len(filtered) == 1 and filtered[0]["notification_id"] == target["id"]
    assert len(LOCAL_SENT) == 1


def test_the_url_is_checked_and_masked_everywhere(env, webhook_receiver):
    url = _json_url(webhook_receiver)
    target = add_notification("m", url, [EVENT])
    assert target["url"] == "json://****" and TOKEN not in json.dumps(target)
    assert TOKEN not in json.dumps(list_notifications()) + json.dumps(get_notification(target["id"]))
    kept = update_notification(target["id"], url="json://****", name="renamed")
    assert kept["name"] == "renamed"
    from sublarr.core.delivery import admin
    from sublarr.core.delivery.notifications_admin import NOTIFICATION

    assert admin.get(NOTIFICATION, target["id"])["url"] == url  # the stored URL is unchanged
    with pytest.raises(ValidationError, match="give it whole"):
        update_notification(target["id"], url="discord://****")
    for bad, message in [
        ("nope://x", "Apprise cannot use"),
        ("discord://", "Apprise cannot use"),
        ("no scheme", "Apprise URL"),
    ]:
        with pytest.raises(ValidationError, match=message) as refused:
            add_notification("bad", bad, [EVENT])
        assert refused.value.field == "url"
    with pytest.raises(ValidationError, match="not an event"):
        add_notification("bad", url, ["nope"])
    with pytest.raises(ValidationError, match="line 1: payload has no key 'batch_id'"):
        add_notification("bad", url, [EVENT], body_template="{{ payload.batch_id }}")
    assert len(list_notifications()) == 1
    remove_notification(target["id"])
    with pytest.raises(NotFoundError):
        get_notification(target["id"])


def test_urls_into_denied_networks_are_refused(env, monkeypatch):
    monkeypatch.setenv("SUBLARR_WEBHOOK_DENY_NETWORKS", "127.0.0.0/8")
    from sublarr.core.delivery.url_policy import UrlRefusedError

    with pytest.raises(UrlRefusedError):
        check_apprise_url("json://127.0.0.1:9/x", ("127.0.0.0/8",))
    assert check_apprise_url("sublarrlocal://x", ("127.0.0.0/8",))


def test_masking_and_redaction_helpers():
    assert mask_apprise_url("tgram://123456:ABCdef/98765") == "tgram://****"
    assert mask_apprise_url("garbage") == "****"
    text = redact_url("POST to https://x/bot123456:ABCdef/98765 failed", "tgram://123456:ABCdef/98765")
    assert "ABCdef" not in text and "98765" not in text


def test_test_send_is_logged_without_statistics(env, webhook_receiver):
    target = add_notification("t", _json_url(webhook_receiver), ["batch_complete"])
    result = test_notification(target["id"])
    assert result.success and result.kind == "notification" and result.event_name == "test"
    [request] = webhook_receiver.wait_for(1)
    assert request.json["title"] == "test"
    [log] = get_hook_logs(limit=10)
    assert log["notification_id"] == target["id"] and log["delivery_id"] is None
    assert get_notification(target["id"])["trigger_count"] == 0


def test_api_crud_test_and_refusals(api_client, webhook_receiver):
    url = _json_url(webhook_receiver)
    created = api_client.post(
        f"{API}/notifications",
        json={
            "name": "api",
            "url": url,
            "events": [EVENT],
            "filters": [{"field": "score", "op": ">=", "value": 1}],
        },
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["url"] == "json://****" and body["events"] == [EVENT] and body["filters"][0]["op"] == ">="
    nid = body["id"]
    for response in (
        api_client.get(f"{API}/notifications"),
        api_client.get(f"{API}/notifications/{nid}"),
        api_client.put(f"{API}/notifications/{nid}", json={"url": "json://****", "title_template": "x"}),
    ):
        assert response.status_code == 200, response.get_data(as_text=True)
        assert TOKEN not in response.get_data(as_text=True)
    tested = api_client.post(f"{API}/notifications/{nid}/test")
    assert tested.status_code == 200 and tested.get_json()["success"] is True
    assert webhook_receiver.wait_for(1)[0].json["title"] == "x"
    bad = api_client.post(f"{API}/notifications", json={"name": "b", "url": "nope://x"})
    assert bad.status_code == 422 and "url" in json.dumps(bad.get_json()["detail"])
    bad = api_client.post(
        f"{API}/notifications",
        json={
            "name": "b",
            "url": url,
            "events": [EVENT],
            "filters": [{"field": "zz", "op": "==", "value": 1}],
        },
    )
    assert bad.status_code == 422 and "'zz' is not a payload key" in json.dumps(bad.get_json()["detail"])
    bad = api_client.put(f"{API}/notifications/{nid}", json={"body_template": "{% for %}"})
    assert bad.status_code == 422 and "line 1" in json.dumps(bad.get_json()["detail"])
    assert api_client.delete(f"{API}/notifications/{nid}").status_code == 204
    assert api_client.get(f"{API}/notifications/{nid}").status_code == 404


def test_cli_add_list_update_test_remove(tmp_path, webhook_receiver):
    env = {"SUBLARR_DATA_DIR": str(tmp_path)}

    def run(*args, code=0):
        out = run_sublarr(*args, env=env)
        assert out.returncode == code, (out.stdout, out.stderr)
        return out.stdout + out.stderr

    url = _json_url(webhook_receiver)
    added = run(
        "notifications", "add", "cli", url, "--event", EVENT, "--filter", 'language in ["de","en"]',
        "--filter", "media_type == episode", "--title", "{{ event_label }}!",
    )  # fmt: skip
    assert added.startswith(f"added notification 1 (cli) to json://**** on {EVENT}")
    listing = run("notifications", "list") + run("notifications", "list", "--json")
    assert TOKEN not in listing and "json://****" in listing
    [row] = json.loads(run("notifications", "list", "--json"))
    assert row["filters"] == [
        {"field": "language", "op": "in", "value": ["de", "en"]},
        {"field": "media_type", "op": "==", "value": "episode"},
    ]
    assert "Subtitle downloaded!" not in run("notifications", "update", "1", "--no-filters", "--disable")
    assert json.loads(run("notifications", "list", "--json"))[0]["filters"] == []
    assert run("notifications", "test", "1").startswith("OK: notification 1 (cli) through Apprise")
    assert webhook_receiver.wait_for(1)[0].json["title"] == "test!"
    assert "is not a payload key" in run(
        "notifications", "add", "x", url, "--event", EVENT, "--filter", "zz == 1", code=1
    )
    assert "not 'FIELD OP VALUE'" in run("notifications", "add", "x", url, "--filter", "nonsense", code=2)
    assert "removed notification 1" in run("notifications", "remove", "1")


def test_on_postgresql_notifications_filters_templates_and_recovery(
    postgres_url, plugin_manager, webhook_receiver, monkeypatch
):
    from sublarr.core.db import init_db
    from sublarr.core.delivery import add_webhook
    from sublarr.core.delivery.recovery import recover_failed
    from sublarr.core.delivery.worker_pool import WorkerPool
    from sublarr.core.settings import load_settings

    monkeypatch.setenv("SUBLARR_WEBHOOK_RETRY_BASE", "0.05")
    assert init_db(postgres_url).dialect.name == "postgresql"
    LOCAL_SENT.clear()
    target = add_notification(
        "pg", "sublarrlocal://pg", [EVENT], filters=[{"field": "language", "op": "==", "value": "de"}]
    )
    hook = add_webhook("pg", EVENT, webhook_receiver.url, retry_count=0, preset="slack")
    webhook_receiver.script(500)
    with WorkerPool(load_settings()) as pool:
        emit_event(EVENT, PAYLOAD)
        emit_event(EVENT, {**PAYLOAD, "language": "en"})
        deadline = time.monotonic() + 10
        while pool.completed < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(LOCAL_SENT) == 1
        logs = get_hook_logs(limit=10)
        assert [log["error"][:9] for log in logs if log["notification_id"] == target["id"]].count(
            "filtered:"
        ) == 1
        recovered = recover_failed("webhook", hook["id"], "1h")
        assert len(recovered.requeued) == 1
        requests = webhook_receiver.wait_for(3)
        assert [r.headers["webhook-id"] for r in requests].count(recovered.requeued[0]) == 2
        assert "Dark" in requests[-1].json["text"]
        pool.stop(timeout=5)


def test_under_sublarr_serve_apprise_sends_from_the_gevent_servers_workers(tmp_path, webhook_receiver):
    """The real server (Gunicorn's gevent worker, delivery workers on OS threads) sends through Apprise."""
    import signal

    from test_serve_e2e import start_server

    server = start_server(tmp_path / "data")
    try:
        created = server.api(
            "POST",
            "/notifications",
            json={
                "name": "e2e",
                "url": _json_url(webhook_receiver),
                "events": [EVENT],
                "title_template": "{{ id }}",
            },
        )
        assert created.status_code == 201, created.text
        assert TOKEN not in created.text
        for n in range(3):
            emitted = server.api("POST", f"/events/{EVENT}/emit", json={"title": f"t{n}", "language": "de"})
            assert emitted.status_code == 202, emitted.text
        requests = webhook_receiver.wait_for(3, timeout=30)
        assert len({r.json["title"] for r in requests}) == 3  # three deliveries, each its own id
        assert all(r.json["title"].startswith("msg_") for r in requests)
        # An attempt is written just after its send (grouped writes): wait for the count.
        deadline = time.monotonic() + 10
        while (count := server.api("GET", "/notifications").json()["notifications"][0]["trigger_count"]) < 1:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert count >= 1
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(timeout=30) == 0, "\n".join(server.output)
        assert TOKEN not in "\n".join(server.output)
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(10)
