"""Adding, changing, listing and removing script hooks and webhooks, with the pipeline's checks.

These wrap the storage CRUD (``sublarr.core.db.hooks``) with what only the delivery
pipeline knows; the CLI and the REST server use them:

* ``add_hook`` / ``update_hook`` refuse a script that does not resolve to an executable
  file inside the hooks directory (``ScriptRefusedError``).
* ``add_webhook`` / ``update_webhook`` check the secret (``whsec_<base64>``; one is
  generated when none is given), the method (POST or PUT), custom headers, and the URL
  against the deny-list when its host resolves now (``UrlRefusedError``).
* ``public_hook`` / ``public_webhook`` give records safe to show: the secret masked
  (``whsec_********abcd``), custom header values masked, URL passwords masked.
* Re-enabling a webhook (``update_webhook(id, enabled=True)``) resets its failure count
  and its ``disabled_reason``.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import update

from sublarr.core.db import hooks as store
from sublarr.core.db.engine import get_engine
from sublarr.core.db.models import WebhookConfig
from sublarr.core.db.validators import check_http_url
from sublarr.core.delivery import store as deliveries
from sublarr.core.delivery.script_runner import resolve_script
from sublarr.core.delivery.signing import check_secret, generate_secret, mask_secret
from sublarr.core.delivery.url_policy import UrlPolicy
from sublarr.core.delivery.webhook_sender import ALLOWED_METHODS, RESERVED_HEADERS
from sublarr.core.errors import NotFoundError, ValidationError
from sublarr.core.settings import Settings, load_settings

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
MAX_HEADERS = 20
MAX_HEADER_VALUE = 4096


def _settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else load_settings()


# ---- hooks -------------------------------------------------------------------------------


def check_script_path(script_path: str, settings: Settings | None = None) -> str:
    """``script_path`` if it resolves to an executable inside the hooks directory."""
    resolve_script(script_path, _settings(settings).effective_hooks_dir)
    return script_path


def add_hook(
    name: str,
    event_name: str,
    script_path: str,
    timeout_seconds: int = 30,
    *,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Store a script hook after checking its script; return the record."""
    check_script_path(script_path, settings)
    return store.create_hook_config(name, event_name, script_path, timeout_seconds)


def update_hook(hook_id: int, *, settings: Settings | None = None, **fields: Any) -> dict[str, Any]:
    """Change fields of a hook (a new ``script_path`` is checked); return the record."""
    if "script_path" in fields:
        check_script_path(fields["script_path"], settings)
    store.update_hook_config(hook_id, **fields)
    return _get_hook(hook_id)


def _get_hook(hook_id: int) -> dict[str, Any]:
    record = store.get_hook_config(hook_id)
    if record is None:
        raise NotFoundError(f"hook {hook_id} does not exist")
    return record


def public_hook(record: dict[str, Any]) -> dict[str, Any]:
    """A hook record fit to show (hooks hold no secrets: a copy)."""
    return dict(record)


def list_hooks(event_name: str | None = None) -> list[dict[str, Any]]:
    """Every hook (of ``event_name``), fit to show."""
    return [public_hook(r) for r in store.get_hook_configs(event_name)]


def remove_hook(hook_id: int) -> None:
    """Delete a hook; its queued deliveries are skipped, its log kept."""
    store.delete_hook_config(hook_id)


# ---- webhooks ----------------------------------------------------------------------------


def check_method(method: str) -> str:
    """``POST`` or ``PUT`` (any case), upper-cased."""
    if not isinstance(method, str) or method.upper() not in ALLOWED_METHODS:
        raise ValidationError("method", f"must be one of {', '.join(ALLOWED_METHODS)}, got {method!r}")
    return method.upper()


def check_headers(headers: Any) -> dict[str, str]:
    """Custom headers: a dict of valid header names to single-line string values."""
    if headers is None:
        return {}
    if not isinstance(headers, dict):
        raise ValidationError("headers", "must be an object of header name -> value")
    if len(headers) > MAX_HEADERS:
        raise ValidationError("headers", f"at most {MAX_HEADERS} headers")
    out: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise ValidationError("headers", f"{name!r} is not a valid header name")
        if name.lower() in RESERVED_HEADERS:
            raise ValidationError("headers", f"{name!r} is set by sublarr and cannot be replaced")
        if not isinstance(value, str) or any(c in value for c in "\r\n\x00"):
            raise ValidationError("headers", f"the value of {name!r} must be a single-line string")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise ValidationError("headers", f"the value of {name!r} must be Latin-1 text") from None
        if len(value) > MAX_HEADER_VALUE:
            raise ValidationError("headers", f"the value of {name!r} is longer than {MAX_HEADER_VALUE}")
        out[name] = value
    return out


def check_url(url: str, settings: Settings | None = None) -> str:
    """``url`` unless its host resolves, now, into a denied network (DNS failures pass)."""
    policy = UrlPolicy.from_strings(_settings(settings).webhook_deny_networks)
    check_http_url("url", url, store.URL_MAX_CHARS)
    with contextlib.suppress(OSError):  # not resolvable now: checked again at every delivery
        policy.check_url(url)
    return url


def add_webhook(
    name: str,
    event_name: str,
    url: str,
    secret: str | None = None,
    retry_count: int = 3,
    timeout_seconds: int = 10,
    *,
    method: str = "POST",
    headers: dict[str, str] | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Store a webhook after the pipeline's checks; return the record, secret unmasked (show once)."""
    secret = check_secret(secret) if secret else generate_secret()
    method = check_method(method)
    headers = check_headers(headers)
    check_url(url, settings)
    record = store.create_webhook_config(name, event_name, url, secret, retry_count, timeout_seconds)
    deliveries.set_webhook_options(record["id"], method=method, headers=headers, disabled_reason="")
    return get_webhook(record["id"])


def get_webhook(webhook_id: int) -> dict[str, Any]:
    """A webhook with its options (``method``, ``headers``, ``disabled_reason``), secret unmasked."""
    record = store.get_webhook_config(webhook_id)
    if record is None:
        raise NotFoundError(f"webhook {webhook_id} does not exist")
    record.update(deliveries.get_webhook_options(webhook_id))
    return record


def update_webhook(webhook_id: int, *, settings: Settings | None = None, **fields: Any) -> dict[str, Any]:
    """Change fields of a webhook, options included; ``enabled=True`` also clears its failures."""
    get_webhook(webhook_id)
    options: dict[str, Any] = {}
    if "method" in fields:
        options["method"] = check_method(fields.pop("method"))
    if "headers" in fields:
        options["headers"] = check_headers(fields.pop("headers"))
    if "secret" in fields:
        fields["secret"] = check_secret(fields["secret"]) if fields["secret"] else generate_secret()
    if "url" in fields:
        check_url(fields["url"], settings)
    if fields:
        store.update_webhook_config(webhook_id, **fields)
    if fields.get("enabled") is True or fields.get("enabled") == 1:
        options["disabled_reason"] = ""
        with get_engine().begin() as conn:
            conn.execute(
                update(WebhookConfig).where(WebhookConfig.id == webhook_id).values(consecutive_failures=0)
            )
    if options:
        deliveries.set_webhook_options(webhook_id, **options)
    return get_webhook(webhook_id)


def _mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:****@{host}"))


def public_webhook(record: dict[str, Any]) -> dict[str, Any]:
    """A webhook record fit to show: secret, header values and URL password masked."""
    shown = dict(record)
    shown["secret"] = mask_secret(record.get("secret"))
    shown["headers"] = {name: "****" for name in (record.get("headers") or {})}
    shown["url"] = _mask_url(record.get("url") or "")
    return shown


def list_webhooks(event_name: str | None = None) -> list[dict[str, Any]]:
    """Every webhook (of ``event_name`` or ``*``), fit to show."""
    out = []
    for record in store.get_webhook_configs(event_name):
        record.update(deliveries.get_webhook_options(record["id"]))
        out.append(public_webhook(record))
    return out


def remove_webhook(webhook_id: int) -> None:
    """Delete a webhook (and its options); its queued deliveries are skipped, its log kept."""
    store.delete_webhook_config(webhook_id)
