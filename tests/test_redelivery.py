"""Sending a finished delivery again through the API: same id, a new attempt, a new log row."""

from __future__ import annotations

import pytest
import standardwebhooks

from sublarr.core.delivery import store as deliveries

from conftest import wait_logs


@pytest.fixture
def client(api_client, monkeypatch):
    monkeypatch.setenv("SUBLARR_WEBHOOK_RETRY_BASE", "0.05")
    return api_client


def _webhook(client, url: str) -> dict:
    response = client.post(
        "/api/v1/webhooks",
        json={"name": "recv", "event_name": "subtitle_downloaded", "url": url, "retry_count": 0},
    )
    assert response.status_code == 201, response.json
    return response.json


def _emit(client) -> str:
    response = client.post("/api/v1/events/subtitle_downloaded/emit", json={"language": "de"})
    assert response.status_code == 202, response.json
    return response.json["event_id"]


def test_a_failed_delivery_is_sent_again_with_the_same_webhook_id(client, webhook_receiver, delivery_pool):
    webhook = _webhook(client, webhook_receiver.url)
    webhook_receiver.script(500, 200)
    delivery_pool()
    _emit(client)
    [failed] = wait_logs(1, webhook_id=webhook["id"])
    assert failed["success"] is False and failed["status_code"] == 500
    delivery_id = failed["delivery_id"]
    assert delivery_id and delivery_id.startswith("msg_")
    assert client.get(f"/api/v1/deliveries/{delivery_id}").json["delivery"]["status"] == "failed"

    response = client.post(f"/api/v1/deliveries/{delivery_id}/redeliver")
    assert response.status_code == 202, response.json
    assert response.json["delivery"]["id"] == delivery_id
    assert response.json["delivery"]["attempts"] == 0

    first, second = webhook_receiver.wait_for(2)
    assert first.webhook_id == second.webhook_id == delivery_id
    assert first.body == second.body  # the same message, byte for byte
    # the receiver can verify the resend like the original (Standard Webhooks)
    headers = {k: v for k, v in second.headers.items() if k.startswith("webhook-")}
    standardwebhooks.Webhook(webhook["generated_secret"]).verify(second.body, headers)
    logs = wait_logs(2, webhook_id=webhook["id"])
    assert [row["delivery_id"] for row in logs] == [delivery_id, delivery_id]
    assert logs[0]["success"] is True and logs[0]["status_code"] == 200  # newest first
    assert deliveries.get_delivery(delivery_id)["status"] == "delivered"
    # the log can be filtered by the delivery
    paged = client.get("/api/v1/hooks/logs", query_string={"webhook_id": webhook["id"]}).json["logs"]
    assert {row["delivery_id"] for row in paged} == {delivery_id}


def test_refusals_change_nothing(client, webhook_receiver):
    webhook = _webhook(client, webhook_receiver.url)
    _emit(client)  # no pool: the delivery stays pending
    [pending] = deliveries.get_deliveries(target_id=webhook["id"])
    assert pending["status"] == "pending"

    response = client.post(f"/api/v1/deliveries/{pending['id']}/redeliver")
    assert response.status_code == 409
    assert "still queued" in response.json["detail"]

    missing = client.post("/api/v1/deliveries/msg_0000/redeliver")
    assert missing.status_code == 404 and "kept" in missing.json["detail"]
    assert client.get("/api/v1/deliveries/msg_0000").status_code == 404

    # a finished delivery of a disabled webhook is not sent again until it is enabled
    deliveries.skip_delivery(pending["id"], None, "test")
    assert client.put(f"/api/v1/webhooks/{webhook['id']}", json={"enabled": False}).status_code == 200
    response = client.post(f"/api/v1/deliveries/{pending['id']}/redeliver")
    assert response.status_code == 409 and "disabled" in response.json["detail"]
    assert deliveries.get_delivery(pending["id"])["status"] == "skipped"

    assert client.put(f"/api/v1/webhooks/{webhook['id']}", json={"enabled": True}).status_code == 200
    assert client.post(f"/api/v1/deliveries/{pending['id']}/redeliver").status_code == 202
    assert deliveries.get_delivery(pending["id"])["status"] == "pending"

    # deleted webhook: 409, the row stays as it was
    deliveries.skip_delivery(pending["id"], None, "test")
    assert client.delete(f"/api/v1/webhooks/{webhook['id']}").status_code == 204
    response = client.post(f"/api/v1/deliveries/{pending['id']}/redeliver")
    assert response.status_code == 409 and "deleted" in response.json["detail"]
    assert deliveries.get_delivery(pending["id"])["status"] == "skipped"


def test_a_generated_secret_is_shown_once_on_create_and_rotate(client, webhook_receiver):
    created = _webhook(client, webhook_receiver.url)
    secret = created["generated_secret"]
    assert secret.startswith("whsec_") and "*" not in secret
    assert created["secret"] != secret and created["secret"].endswith(secret[-4:])  # masked beside it
    shown = client.get(f"/api/v1/webhooks/{created['id']}").json
    assert "generated_secret" not in shown and secret not in str(client.get("/api/v1/webhooks").json)
    # an update that does not make a new secret shows none
    renamed = client.put(f"/api/v1/webhooks/{created['id']}", json={"name": "renamed"}).json
    assert "generated_secret" not in renamed and secret not in str(renamed)
    # rotation (secret "") shows the new one once
    rotated = client.put(f"/api/v1/webhooks/{created['id']}", json={"secret": ""}).json
    assert rotated["generated_secret"].startswith("whsec_") and rotated["generated_secret"] != secret
    # a secret the user gave is never echoed
    own = "whsec_" + "A" * 43 + "="
    given = client.post(
        "/api/v1/webhooks",
        json={"name": "own", "event_name": "*", "url": webhook_receiver.url, "secret": own},
    ).json
    assert "generated_secret" not in given and own not in str(given)
