"""Secrets of a webhook never reach what is stored or shown (issue 9).

A real receiver on 127.0.0.1 echoes the credentials it got; the delivery's log row (what
/hooks/logs and `sublarr logs` show) must hold none of them.
"""

from __future__ import annotations

import json

import pytest

from sublarr.core.db import hooks as store
from sublarr.core.delivery import add_webhook
from sublarr.core.delivery.fire import test_webhook as fire_webhook
from sublarr.core.testing.receiver import Reply

BASIC = "YWxpY2U6cGE1NXdvcmQ="  # base64 of alice:pa55word


def _echo(webhook_receiver, text: str) -> None:
    webhook_receiver.respond(500, body=text.encode())


def _logged_error(result) -> str:
    [row] = [r for r in store.get_hook_logs(limit=100) if r["id"] == result.log_id]
    return row["error"] or ""


def test_an_echoed_basic_credential_from_the_url_is_not_stored(sublarr_db, webhook_receiver):
    url = webhook_receiver.url.replace("http://", "http://alice:pa55word@") + "?token=qs-token-123&page=7"
    hook = add_webhook("w", "*", url, retry_count=0)
    _echo(
        webhook_receiver,
        f"got Authorization: Basic {BASIC}, unpadded {BASIC.rstrip('=')}, "
        f"password pa55word, token qs-token-123, json {json.dumps(hook['secret'])}",
    )
    result = fire_webhook(hook["id"])
    [request] = webhook_receiver.wait_for(1)
    assert request.headers["authorization"] == f"Basic {BASIC}"  # it was sent
    error = _logged_error(result)
    assert error.startswith("HTTP 500") and "***" in error
    for secret in (BASIC, BASIC.rstrip("="), "pa55word", "qs-token-123", hook["secret"]):
        assert secret not in error, (secret, error)
    assert "got Authorization: Basic ***" in error


def test_an_echoed_bearer_token_of_a_custom_header_is_not_stored(sublarr_db, webhook_receiver):
    from sublarr.core.delivery import update_webhook

    hook = add_webhook("w", "*", webhook_receiver.url, retry_count=0)
    update_webhook(hook["id"], headers={"Authorization": "Bearer tok/abc+123"})
    _echo(webhook_receiver, 'token tok/abc+123 and as JSON "tok\\/abc+123"')
    result = fire_webhook(hook["id"])
    webhook_receiver.wait_for(1)
    error = _logged_error(result)
    assert "tok/abc+123" not in error and "tok\\/abc+123" not in error, error
    assert error.count("***") == 2


def test_a_secret_across_the_excerpt_cut_leaves_no_piece(sublarr_db, webhook_receiver):
    hook = add_webhook("w", "*", webhook_receiver.url + "?apikey=abcdefghijklmnop", retry_count=0)
    webhook_receiver.respond(500, body=b"x" * 500 + b"abcdefghijklmnop" + b"y" * 100)
    result = fire_webhook(hook["id"])
    assert "abcdefgh" not in _logged_error(result)


def test_redact_target_secrets_covers_every_kind_of_secret():
    from sublarr.core.delivery.webhook_sender import redact_target_secrets, target_secrets

    url = "https://bob:s%40cret-pw@hooks.example/x?api_key=k3y-value&Access-Token=at-value-1&page=12"
    text = (
        "s@cret-pw s%40cret-pw Ym9iOnNAY3JldC1wdw== k3y-value at-value-1 "
        "whsec_c2lnbmluZy1rZXk= c2lnbmluZy1rZXk= custom-value-1 page 12"
    )
    redacted = redact_target_secrets(
        text, url=url, secret="whsec_c2lnbmluZy1rZXk=", headers={"X-Custom": "custom-value-1"}
    )
    assert redacted == "*** *** *** *** *** *** *** *** page 12"
    assert "Ym9iOnNAY3JldC1wdw==" in target_secrets(url)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://h/x?token=abc&page=2", "https://h/x?token=****&page=2"),
        (
            "https://h/x?apikey=a&api_key=b&KEY=c&password=d",
            "https://h/x?apikey=****&api_key=****&KEY=****&password=****",
        ),
        (
            "https://h/x?secret=a&access_token=b&auth=c&x-api-key=d",
            "https://h/x?secret=****&access_token=****&auth=****&x-api-key=****",
        ),
        ("https://h/x?monkey=1&flag&empty=&token=", "https://h/x?monkey=1&flag&empty=&token="),
        ("https://alice:pw@h:8080/x?token=t#frag", "https://alice:****@h:8080/x?token=****#frag"),
        ("http://tok3n@[::1]:9/x", "http://****@[::1]:9/x"),
        ("http://h/plain", "http://h/plain"),
    ],
)
def test_mask_url_masks_credentials_for_display(url, shown):
    from sublarr.core.delivery.webhook_sender import mask_url

    assert mask_url(url) == shown


def test_the_receiver_really_got_the_query_token(sublarr_db, webhook_receiver):
    """The mask is for display only: the request still carries the real values."""
    hook = add_webhook("w", "*", webhook_receiver.url + "?token=real-token-1", retry_count=0)
    webhook_receiver.script(Reply(200))
    assert fire_webhook(hook["id"]).success
    assert webhook_receiver.wait_for(1)[0].path == "/hook?token=real-token-1"
