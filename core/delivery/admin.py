"""Adding, changing, listing and removing script hooks and webhooks, with the pipeline's checks.

These wrap the storage CRUD (``sublarr.core.db.hooks``) with what only the delivery
pipeline knows; the CLI and the REST server use them:

* ``add_hook`` / ``update_hook`` refuse a script that does not resolve to an executable
  file inside the hooks directory (``ScriptRefusedError``).
* ``add_webhook`` / ``update_webhook`` check the secret (``whsec_<base64>``; one is
  generated when none is given), the method (POST or PUT), custom headers, and the URL
  against the deny-list; its host must resolve now (``UrlRefusedError``).
* ``public_hook`` / ``public_webhook`` give records safe to show: the secret masked
  (``whsec_********abcd``), custom header values masked, URL passwords masked.
* Re-enabling a webhook (``update_webhook(id, enabled=True)``) resets its failure count
  and its ``disabled_reason``.

Both kinds go through one set of functions (``add``, ``update``, ``get``, ``list_targets``,
``remove``) parameterised by a ``TargetKind``: ``HOOK`` or ``WEBHOOK``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sublarr.core.db import hooks as storage
from sublarr.core.db.validators import check_http_url
from sublarr.core.delivery import store as deliveries
from sublarr.core.delivery.script_runner import ScriptRefusedError, resolve_script
from sublarr.core.delivery.signing import check_secret, generate_secret, mask_secret
from sublarr.core.delivery.url_policy import UrlPolicy, UrlRefusedError
from sublarr.core.delivery.webhook_sender import ALLOWED_METHODS, RESERVED_HEADERS, mask_url
from sublarr.core.errors import NotFoundError, SublarrError, ValidationError
from sublarr.core.settings import Settings, current_settings

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
MAX_HEADERS = 20
MAX_HEADER_VALUE = 4096
MAX_ID = 2**63 - 1


def _settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else current_settings()


# ---- the pipeline's checks ---------------------------------------------------------------


def check_script_path(script_path: str, settings: Settings | None = None) -> str:
    """``script_path`` if it resolves to an executable inside the hooks directory."""
    resolve_script(script_path, _settings(settings).effective_hooks_dir)
    return script_path


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
    """``url`` if its host resolves now, and not into a denied network (``UrlRefusedError``)."""
    check_http_url("url", url, storage.URL_MAX_CHARS)
    UrlPolicy.from_strings(_settings(settings).webhook_deny_networks).check_url(url)
    return url


def _prepare_hook(fields: dict[str, Any], settings: Settings | None) -> dict[str, Any]:
    if "script_path" in fields:
        check_script_path(fields["script_path"], settings)
    return {}


def _prepare_webhook(fields: dict[str, Any], settings: Settings | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if "secret" in fields:
        fields["secret"] = check_secret(fields["secret"]) if fields["secret"] else generate_secret()
    if "method" in fields:
        options["method"] = check_method(fields.pop("method"))
    if "headers" in fields:
        options["headers"] = check_headers(fields.pop("headers"))
    if "url" in fields:
        check_url(fields["url"], settings)
    return options


# ---- what may be shown -------------------------------------------------------------------


def public_hook(record: dict[str, Any]) -> dict[str, Any]:
    """A hook record fit to show (hooks hold no secrets: a copy)."""
    return dict(record)


def public_webhook(record: dict[str, Any]) -> dict[str, Any]:
    """A webhook record fit to show: secret, header values, URL credentials masked (``mask_url``)."""
    shown = dict(record)
    shown["secret"] = mask_secret(record.get("secret"))
    shown["headers"] = {name: "****" for name in (record.get("headers") or {})}
    shown["url"] = mask_url(record.get("url") or "")
    return shown


# ---- one admin layer for both kinds ------------------------------------------------------


@dataclass(frozen=True)
class TargetKind:
    """What the pipeline adds to storage for one kind of delivery target."""

    table: storage.TargetTable
    # Checks ``fields`` in place (pipeline-only fields popped); returns the options to store.
    prepare: Callable[[dict[str, Any], Settings | None], dict[str, Any]]
    public: Callable[[dict[str, Any]], dict[str, Any]]
    refused: type[SublarrError]  # raised by ``prepare`` for a target that may not run
    refused_field: str  # the field that error is about
    create_defaults: Mapping[str, Any] = field(default_factory=dict)  # pipeline fields ``add`` always sets

    @property
    def kind(self) -> str:
        """``script`` or ``webhook``, as deliveries and the log name it."""
        return self.table.kind

    @property
    def label(self) -> str:
        """``hook`` or ``webhook``, as users name it."""
        return self.table.label


HOOK = TargetKind(storage.HOOKS, _prepare_hook, public_hook, ScriptRefusedError, "script_path")
WEBHOOK = TargetKind(
    storage.WEBHOOKS,
    _prepare_webhook,
    public_webhook,
    UrlRefusedError,
    "url",
    create_defaults={"secret": "", "method": "POST", "headers": {}},  # "": a secret is generated
)
KINDS = {target.kind: target for target in (HOOK, WEBHOOK)}


def get(target: TargetKind, target_id: int) -> dict[str, Any]:
    """A stored hook or webhook (webhooks with their options, secret unmasked); ``NotFoundError``.

    An int that cannot be an id (0, negative, beyond 64 bits) is not found either.
    """
    if type(target_id) is int and not 1 <= target_id <= MAX_ID:
        raise NotFoundError(f"{target.label} {target_id} does not exist")
    record = deliveries.load_target(target.kind, target_id)
    if record is None:
        raise NotFoundError(f"{target.label} {target_id} does not exist")
    return record


def add(target: TargetKind, *, settings: Settings | None = None, **fields: Any) -> dict[str, Any]:
    """Store a hook or webhook after the pipeline's checks; return the record (secret unmasked)."""
    fields = {**target.create_defaults, **fields}
    options = target.prepare(fields, settings)
    record = storage.create_target(target.table, **fields)
    if options:
        deliveries.set_webhook_options(record["id"], **options)
    return get(target, record["id"])


def update(
    target: TargetKind, target_id: int, *, settings: Settings | None = None, **fields: Any
) -> dict[str, Any]:
    """Change fields of a hook or webhook (options included); return the record.

    ``enabled=True`` also clears a webhook's failure count and ``disabled_reason``.
    """
    get(target, target_id)
    options = target.prepare(fields, settings)
    if fields:
        storage.update_target(target.table, target_id, **fields)
    if target is WEBHOOK and fields.get("enabled") in (True, 1):
        storage.reset_webhook_failures(target_id)
        options["disabled_reason"] = ""
    if options:
        deliveries.set_webhook_options(target_id, **options)
    return get(target, target_id)


def list_targets(target: TargetKind, event_name: str | None = None) -> list[dict[str, Any]]:
    """Every hook or webhook (of ``event_name``; webhooks also of ``*``), fit to show."""
    records = storage.list_targets(target.table, event_name)
    if target is WEBHOOK:
        for record in records:
            record.update(deliveries.get_webhook_options(record["id"]))
    return [target.public(record) for record in records]


def remove(target: TargetKind, target_id: int) -> None:
    """Delete a hook or webhook (and its options); its queued deliveries are skipped, its log kept."""
    storage.delete_target(target.table, target_id)


# ---- the names of each kind --------------------------------------------------------------


def add_hook(
    name: str,
    event_name: str,
    script_path: str,
    timeout_seconds: int = 30,
    *,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Store a script hook after checking its script; return the record."""
    return add(HOOK, settings=settings, **HOOK.table.named(name, event_name, script_path, timeout_seconds))


def update_hook(hook_id: int, *, settings: Settings | None = None, **fields: Any) -> dict[str, Any]:
    """Change fields of a hook (a new ``script_path`` is checked); return the record."""
    return update(HOOK, hook_id, settings=settings, **fields)


def list_hooks(event_name: str | None = None) -> list[dict[str, Any]]:
    """Every hook (of ``event_name``), fit to show."""
    return list_targets(HOOK, event_name)


def remove_hook(hook_id: int) -> None:
    """Delete a hook; its queued deliveries are skipped, its log kept."""
    remove(HOOK, hook_id)


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
    fields = WEBHOOK.table.named(name, event_name, url, secret, retry_count, timeout_seconds)
    return add(WEBHOOK, settings=settings, method=method, headers=headers, **fields)


def get_webhook(webhook_id: int) -> dict[str, Any]:
    """A webhook with its options (``method``, ``headers``, ``disabled_reason``), secret unmasked."""
    return get(WEBHOOK, webhook_id)


def update_webhook(webhook_id: int, *, settings: Settings | None = None, **fields: Any) -> dict[str, Any]:
    """Change fields of a webhook, options included; ``enabled=True`` also clears its failures."""
    return update(WEBHOOK, webhook_id, settings=settings, **fields)


def list_webhooks(event_name: str | None = None) -> list[dict[str, Any]]:
    """Every webhook (of ``event_name`` or ``*``), fit to show."""
    return list_targets(WEBHOOK, event_name)


def remove_webhook(webhook_id: int) -> None:
    """Delete a webhook (and its options); its queued deliveries are skipped, its log kept."""
    remove(WEBHOOK, webhook_id)
