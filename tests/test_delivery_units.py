"""The delivery pipeline's pure parts: signing (checked against the standardwebhooks package),
the retry schedule, Retry-After, the URL deny-list; and when the subscription cache is invalidated."""

from __future__ import annotations

import random
import time
from email.utils import formatdate

import pytest
import standardwebhooks

from sublarr.core.delivery import signing
from sublarr.core.delivery.retry_policy import RetryPolicy, is_retryable_status, parse_retry_after
from sublarr.core.delivery.url_policy import UrlPolicy, UrlRefusedError
from sublarr.core.errors import ValidationError
from sublarr.core.settings import SettingsError, load_settings


def test_our_signature_verifies_with_standardwebhooks():
    secret = signing.generate_secret()
    body = b'{"id":"msg_1","type":"subtitle_downloaded","data":{"title":"Dark"}}'
    headers = signing.signature_headers(secret, "msg_1", body)
    assert standardwebhooks.Webhook(secret).verify(body, headers)["data"] == {"title": "Dark"}
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(secret).verify(body + b" ", headers)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(signing.generate_secret()).verify(body, headers)


def test_standardwebhooks_signature_verifies_with_ours():
    secret = signing.generate_secret()
    body = b'{"a":1}'
    now = int(time.time())
    from datetime import datetime, timezone

    sig = standardwebhooks.Webhook(secret).sign(
        "msg_x", datetime.fromtimestamp(now, tz=timezone.utc), body.decode()
    )
    headers = {"Webhook-Id": "msg_x", "Webhook-Timestamp": str(now), "Webhook-Signature": f"v0,zzz {sig}"}
    assert signing.verify(secret, headers, body) == "msg_x"
    with pytest.raises(signing.SignatureError, match="no signature matches"):
        signing.verify(secret, headers, b'{"a":2}')
    with pytest.raises(signing.SignatureError, match="tolerance"):
        signing.verify(secret, headers, body, now=now + 3600)
    with pytest.raises(signing.SignatureError, match="missing"):
        signing.verify(secret, {"webhook-id": "msg_x"}, body)


def test_secrets_are_checked_and_masked():
    secret = signing.generate_secret()
    assert secret.startswith("whsec_") and len(signing.secret_key(secret)) == 32
    for bad in ("plain-secret", "whsec_!!notbase64", "whsec_" + "QUJD"):
        with pytest.raises(ValidationError) as info:
            signing.check_secret(bad)
        assert info.value.field == "secret"
    masked = signing.mask_secret(secret)
    assert masked.startswith("whsec_********") and secret[6:-4] not in masked
    assert signing.mask_secret("") == ""


def test_backoff_is_exponential_jittered_capped_and_honours_retry_after():
    policy = RetryPolicy(base=5, max_delay=3600)
    assert [policy.nominal_delay(n) for n in range(1, 8)] == [5, 20, 80, 320, 1280, 3600, 3600]
    rng = random.Random(7)
    delays = [policy.delay(2, rng=rng) for _ in range(200)]
    assert min(delays) >= 16 and max(delays) <= 24 and len(set(delays)) > 100
    assert policy.delay(1, retry_after=120, rng=rng) == 120
    assert policy.delay(1, retry_after=10**9, rng=rng) == 3600


def test_retryable_statuses():
    assert [
        s for s in (200, 301, 400, 401, 404, 408, 410, 422, 429, 500, 502, 503, 599) if is_retryable_status(s)
    ] == [
        408,
        429,
        500,
        502,
        503,
        599,
    ]


def test_retry_after_parsing():
    assert parse_retry_after("7") == 7.0
    now = time.time()
    assert 29 <= parse_retry_after(formatdate(now + 30, usegmt=True), now=now) <= 31
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_deny_list_defaults_to_link_local_and_keeps_loopback_and_lan():
    policy = UrlPolicy()
    assert policy.denied_network("169.254.169.254") == "169.254.0.0/16"
    assert policy.denied_network("fe80::1") == "fe80::/10"
    assert policy.denied_network("::ffff:169.254.169.254") == "169.254.0.0/16"
    for allowed in ("127.0.0.1", "::1", "10.0.0.5", "192.168.1.10", "172.16.0.1"):
        assert policy.denied_network(allowed) is None
    with pytest.raises(UrlRefusedError, match="169.254.0.0/16"):
        policy.check_url("http://169.254.169.254/latest/meta-data")
    assert policy.check_url("http://127.0.0.1:9/x") == ["127.0.0.1"]
    assert policy.check_url("http://localhost:9/x")  # resolves, allowed


def test_deny_list_is_configurable():
    settings = load_settings({"SUBLARR_WEBHOOK_DENY_NETWORKS": "127.0.0.0/8, 10.0.0.0/8"})
    policy = UrlPolicy.from_strings(settings.webhook_deny_networks)
    with pytest.raises(UrlRefusedError):
        policy.check_url("http://127.0.0.1:9/")
    assert policy.denied_network("169.254.1.1") is None
    with pytest.raises(SettingsError, match="not a network"):
        load_settings({"SUBLARR_WEBHOOK_DENY_NETWORKS": "nonsense"})


def test_subscription_cache_is_invalidated_by_configuration_writes_only(sublarr_db):
    from sqlalchemy import create_engine

    from sublarr.core.db import get_engine
    from sublarr.core.db import hooks as storage
    from sublarr.core.delivery.subscriptions import SubscriptionCache, invalidate

    cache = SubscriptionCache(ttl=60)
    assert cache.lookup("batch_complete") == ((), ())
    webhook = storage.create_webhook_config("w", "*", "https://example.com/")
    hook = storage.create_hook_config("h", "batch_complete", "h.sh")
    assert cache.lookup("batch_complete") == ((hook["id"],), (webhook["id"],))
    assert cache.lookup("hook_executed") == ((), ())  # a * webhook does not get hook_executed
    queries = cache.queries

    # Statistics and log rows are not configuration: the cached answer stays.
    storage.update_webhook_trigger_stats(webhook["id"], False, status_code=500, error="down")
    storage.update_hook_trigger_stats(hook["id"], True)
    storage.log_hook_execution(hook_id=hook["id"], event_name="batch_complete", hook_type="script")
    assert cache.lookup("batch_complete") == ((hook["id"],), (webhook["id"],))
    assert cache.queries == queries

    # A configuration change through storage is seen at once.
    storage.update_hook_config(hook["id"], enabled=False)
    assert cache.lookup("batch_complete") == ((), (webhook["id"],))

    # No listener on SQLAlchemy engines: another engine's statements change nothing here.
    generation = storage.config_generation()
    other = create_engine("sqlite://")
    with other.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE hook_configs (id INTEGER, enabled INTEGER)")
        conn.exec_driver_sql("UPDATE hook_configs SET enabled = 0")
    other.dispose()
    assert storage.config_generation() == generation

    # Raw SQL on our database is seen after invalidate(), or once the TTL ran out.
    with get_engine().begin() as conn:
        conn.exec_driver_sql("UPDATE webhook_configs SET enabled = 0")
    short = SubscriptionCache(ttl=0.05)
    with get_engine().begin() as conn:
        conn.exec_driver_sql("UPDATE webhook_configs SET enabled = 1")
    assert short.lookup("batch_complete") == ((), (webhook["id"],))
    with get_engine().begin() as conn:
        conn.exec_driver_sql("UPDATE webhook_configs SET enabled = 0")
    assert cache.lookup("batch_complete") == ((), (webhook["id"],))  # not seen yet
    assert short.lookup("batch_complete") == ((), (webhook["id"],))
    time.sleep(0.1)
    assert short.lookup("batch_complete") == ((), ())  # the TTL ran out
    invalidate()
    assert cache.lookup("batch_complete") == ((), ())
