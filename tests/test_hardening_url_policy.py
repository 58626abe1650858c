"""Deny-list gaps (issue 9): unspecified addresses count as loopback; unresolvable hosts are refused at save.

A real receiver on 127.0.0.1 and real sockets: a spelling "gets through" when the request
arrives at the receiver.
"""

from __future__ import annotations

import pytest

from sublarr.core.delivery import UrlRefusedError, add_webhook, list_webhooks
from sublarr.core.delivery.url_policy import UrlPolicy
from sublarr.core.delivery.webhook_sender import WebhookSender
from sublarr.core.settings import load_settings

LOOPBACK_DENIED = "127.0.0.0/8,::1/128"

# Every spelling of "this host" that a connect sends to the local machine.
UNSPECIFIED_SPELLINGS = ["0.0.0.0", "0", "[::]", "[::ffff:0.0.0.0]", "[::ffff:0:0]", "0.0.0.1"]


@pytest.fixture
def loopback_denied() -> UrlPolicy:
    return UrlPolicy.from_strings(LOOPBACK_DENIED.split(","))


@pytest.mark.parametrize("host", UNSPECIFIED_SPELLINGS)
def test_unspecified_addresses_do_not_reach_a_loopback_receiver(loopback_denied, webhook_receiver, host):
    port = webhook_receiver.server.server_address[1]
    sender = WebhookSender(loopback_denied)
    try:
        result = sender.send(url=f"http://{host}:{port}/hook", body=b"{}", event_name="e", msg_id="m")
    finally:
        sender.close()
    assert webhook_receiver.requests == []
    assert not result.success and not result.retryable, result
    assert "inside the denied network" in result.error and "reaches 127.0.0.1" in result.error


def test_the_same_spellings_still_deliver_when_loopback_is_allowed(webhook_receiver):
    port = webhook_receiver.server.server_address[1]
    sender = WebhookSender(UrlPolicy())
    try:
        result = sender.send(url=f"http://0.0.0.0:{port}/hook", body=b"{}", event_name="e", msg_id="m")
    finally:
        sender.close()
    assert result.success, result.error
    assert len(webhook_receiver.requests) == 1


def test_equivalent_addresses_of_each_spelling():
    from sublarr.core.delivery.url_policy import equivalent_addresses

    assert {str(a) for a in equivalent_addresses("::ffff:0:0")} == {
        "::ffff:0:0",
        "0.0.0.0",
        "127.0.0.1",
        "::1",
    }
    assert {str(a) for a in equivalent_addresses("::")} == {"::", "127.0.0.1", "::1"}
    assert {str(a) for a in equivalent_addresses("::ffff:10.0.0.1")} == {"::ffff:a00:1", "10.0.0.1"}
    assert [str(a) for a in equivalent_addresses("fe80::1%eth0")] == ["fe80::1"]
    # The default deny-list (link-local) says nothing about them: loopback stays allowed.
    assert UrlPolicy().denied_network("0.0.0.0") is None
    # Denying only one family's loopback is enough to deny every unspecified spelling.
    assert UrlPolicy.from_strings(["::1/128"]).denied_network("0.0.0.0") == "::1/128"
    assert UrlPolicy.from_strings(["127.0.0.0/8"]).denied_network("::") == "127.0.0.0/8"


@pytest.mark.parametrize("host", UNSPECIFIED_SPELLINGS)
def test_saving_a_webhook_to_an_unspecified_address_is_refused(sublarr_db, monkeypatch, host):
    monkeypatch.setenv("SUBLARR_WEBHOOK_DENY_NETWORKS", LOOPBACK_DENIED)
    with pytest.raises(UrlRefusedError, match="denied network"):
        add_webhook("w", "*", f"http://{host}:8080/hook", settings=load_settings())
    assert list_webhooks() == []


def test_saving_a_webhook_whose_host_cannot_be_resolved_is_refused_with_the_reason(sublarr_db):
    # .invalid never resolves (RFC 6761): nothing could be checked, so it is not a pass.
    with pytest.raises(UrlRefusedError, match="cannot be resolved now"):
        add_webhook("w", "*", "http://no-such-host.invalid/hook", settings=load_settings())
    assert list_webhooks() == []
    with pytest.raises(UrlRefusedError, match="cannot be resolved now"):
        UrlPolicy().check_url("http://no-such-host.invalid/hook")


def test_a_host_that_cannot_be_resolved_at_delivery_is_a_retryable_failure():
    sender = WebhookSender(UrlPolicy())
    try:
        result = sender.send(url="http://no-such-host.invalid/hook", body=b"{}", event_name="e", msg_id="m")
    finally:
        sender.close()
    assert not result.success and result.retryable and "connection failed" in result.error
