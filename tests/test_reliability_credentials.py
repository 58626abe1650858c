"""Stored credentials never follow a webhook's URL to another origin (issue 9).

``PUT /api/v1/webhooks/{id}`` (and ``update_webhook``, the CLI/admin path) keeps a masked
value sent back - a header value, the URL's password or a credential query value - only
while the URL's origin (scheme, host, port) stays the same. A move to another origin with
masked values, or with stored header values that would follow it unasked, is a 422 naming
the field until they are given again. Checked with two real receivers on two ports.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from sublarr.core.testing.receiver import WebhookReceiver

API = "/api/v1/webhooks"
TOKEN = "Bearer stored-s3cret"


@pytest.fixture
def other_receiver() -> Iterator[WebhookReceiver]:
    """A second receiver: another port, so another origin."""
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def webhook(api_client, webhook_receiver) -> dict:
    created = api_client.post(
        API,
        json={
            "name": "w",
            "event_name": "batch_complete",
            "url": webhook_receiver.url_for("/hook?token=t0ken-1&x=1").replace(
                "http://", "http://alice:pa55@"
            ),
            "headers": {"Authorization": TOKEN, "X-Tenant": "home"},
        },
    )
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def _stored(webhook_id: int) -> dict:
    from sublarr.core.delivery import get_webhook

    return get_webhook(webhook_id)


def _fire(api_client, webhook_id: int) -> None:
    answer = api_client.post(f"{API}/{webhook_id}/test")
    assert answer.status_code == 200 and answer.get_json()["success"], answer.get_json()


def _refused(answer, field: str) -> str:
    assert answer.status_code == 422, answer.get_json()
    detail = answer.get_json()["detail"]
    assert list(detail) == [field], detail
    return detail[field][0]


def test_masked_header_values_do_not_follow_the_url_to_another_origin(
    api_client, webhook, webhook_receiver, other_receiver
):
    before = _stored(webhook["id"])
    moved = {"url": other_receiver.url, "headers": {"Authorization": "****", "X-Tenant": "****"}}
    message = _refused(api_client.put(f"{API}/{webhook['id']}", json=moved), "headers")
    assert "'Authorization'" in message and "another origin" in message
    # Headers not sent would follow the URL just the same: refused too.
    message = _refused(api_client.put(f"{API}/{webhook['id']}", json={"url": other_receiver.url}), "headers")
    assert "send the headers again" in message
    assert _stored(webhook["id"]) == before  # nothing changed

    _fire(api_client, webhook["id"])  # still goes where it went, with its credential
    assert webhook_receiver.wait_for(1)[0].headers["authorization"] == TOKEN
    assert other_receiver.requests == []

    given_again = {"url": other_receiver.url, "headers": {"Authorization": "Bearer new-one"}}
    answer = api_client.put(f"{API}/{webhook['id']}", json=given_again)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["headers"] == {"Authorization": "****"}
    _fire(api_client, webhook["id"])
    [request] = other_receiver.wait_for(1)
    assert request.headers["authorization"] == "Bearer new-one"
    assert "x-tenant" not in request.headers
    assert all(TOKEN not in value for r in other_receiver.requests for value in r.headers.values())


def test_masked_url_credentials_do_not_follow_the_url_to_another_origin(api_client, webhook, other_receiver):
    before = _stored(webhook["id"])
    host = other_receiver.url_for("").removeprefix("http://")
    for url, named in (
        (f"http://alice:****@{host}/hook", "password"),
        (f"http://{host}/hook?token=****", "query value 'token'"),
    ):
        body = {"url": url, "headers": {}}
        message = _refused(api_client.put(f"{API}/{webhook['id']}", json=body), "url")
        assert named in message and "another origin" in message
    # https on the same host and port is another origin too.
    same_host_https = (
        api_client.get(f"{API}/{webhook['id']}").get_json()["url"].replace("http://", "https://")
    )
    _refused(api_client.put(f"{API}/{webhook['id']}", json={"url": same_host_https, "headers": {}}), "url")
    assert _stored(webhook["id"]) == before
    assert other_receiver.requests == []


def test_masked_values_are_kept_on_the_same_origin(api_client, webhook, webhook_receiver):
    stored_url = _stored(webhook["id"])["url"]
    shown = api_client.get(f"{API}/{webhook['id']}").get_json()
    assert shown["url"].endswith("/hook?token=****&x=1") and ":****@" in shown["url"]

    # The URL as shown, sent back: the stored one stays.
    answer = api_client.put(f"{API}/{webhook['id']}", json={"url": shown["url"], "headers": shown["headers"]})
    assert answer.status_code == 200, answer.get_json()
    assert _stored(webhook["id"])["url"] == stored_url

    # Another path on the same origin, masked parts: the stored values fill them in.
    new_path = shown["url"].replace("/hook?", "/other?").replace("&x=1", "&x=2")
    answer = api_client.put(
        f"{API}/{webhook['id']}", json={"url": new_path, "headers": {"Authorization": "****"}}
    )
    assert answer.status_code == 200, answer.get_json()
    stored = _stored(webhook["id"])
    assert stored["url"] == stored_url.replace("/hook?", "/other?").replace("&x=1", "&x=2")
    assert stored["headers"] == {"Authorization": TOKEN}
    _fire(api_client, webhook["id"])
    [request] = webhook_receiver.wait_for(1)
    assert request.path == "/other?token=t0ken-1&x=2"
    assert request.headers["authorization"] == TOKEN  # the custom header wins over the URL's user info


def test_a_masked_value_with_nothing_stored_is_refused(api_client, webhook):
    stored = _stored(webhook["id"])
    url = stored["url"].replace("token=t0ken-1", "api_key=****")
    message = _refused(api_client.put(f"{API}/{webhook['id']}", json={"url": url}), "url")
    assert "'api_key'" in message and "none is stored" in message


def test_the_admin_update_path_follows_the_same_rule(sublarr_db, webhook_receiver, other_receiver):
    from sublarr.core.delivery import add_webhook, get_webhook, update_webhook
    from sublarr.core.delivery.admin import url_origin
    from sublarr.core.errors import ValidationError

    hook = add_webhook("w", "*", webhook_receiver.url, headers={"Authorization": TOKEN})
    with pytest.raises(ValidationError) as refused:
        update_webhook(hook["id"], url=other_receiver.url, headers={"Authorization": "****"})
    assert refused.value.field == "headers"
    with pytest.raises(ValidationError) as refused:
        update_webhook(hook["id"], url=other_receiver.url)
    assert refused.value.field == "headers"
    assert get_webhook(hook["id"])["url"] == webhook_receiver.url

    update_webhook(hook["id"], url=webhook_receiver.url_for("/v2"), headers={"Authorization": "****"})
    assert get_webhook(hook["id"])["headers"] == {"Authorization": TOKEN}
    update_webhook(hook["id"], url=other_receiver.url, headers={})
    assert get_webhook(hook["id"])["headers"] == {}

    assert (
        url_origin("http://Example.org/a")
        == url_origin("http://example.org:80/b")
        == ("http", "example.org", 80)
    )
    assert url_origin("https://example.org/") != url_origin("http://example.org:443/")


def test_basic_credentials_from_the_url_stay_with_their_origin(api_client, webhook_receiver, other_receiver):
    url = webhook_receiver.url.replace("http://", "http://alice:pa55@")
    created = api_client.post(API, json={"name": "b", "event_name": "batch_complete", "url": url}).get_json()
    shown = created["url"]
    moved = shown.replace(
        webhook_receiver.url_for("").removeprefix("http://"),
        other_receiver.url_for("").removeprefix("http://"),
    )
    _refused(api_client.put(f"{API}/{created['id']}", json={"url": moved}), "url")
    _fire(api_client, created["id"])
    [request] = webhook_receiver.wait_for(1)
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"alice:pa55").decode()
    assert other_receiver.requests == []
