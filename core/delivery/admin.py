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
* ``update_webhook`` takes masked values back (``MASK``, ``****``): a header value, the
  URL's password (or lone user name) or a credential query value (``?token=****``) sent as
  ``****`` keeps the stored one - only while the URL's origin (scheme, host, port) stays
  the same. A URL moving to another origin is refused (``ValidationError`` naming ``url``
  or ``headers``) while it carries masked values or stored header values would follow it:
  credentials go only to the origin they were given for, as browsers drop them on a
  cross-origin redirect. Give them again (or ``headers={}``) to move the webhook.
* A webhook may have a ``body_template`` (or a ``preset`` by name, with
  ``preset_options``), its ``content_type``, and ``filters``; they are checked against
  the webhook's event when saved, and again when its event changes.
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
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from sublarr.core.db import hooks as storage
from sublarr.core.db.validators import check_http_url
from sublarr.core.delivery import store as deliveries
from sublarr.core.delivery.filters import check_filters
from sublarr.core.delivery.script_runner import ScriptRefusedError, resolve_script
from sublarr.core.delivery.signing import check_secret, generate_secret, mask_secret
from sublarr.core.delivery.template_presets import preset_template
from sublarr.core.delivery.templates import check_template
from sublarr.core.delivery.url_policy import UrlPolicy, UrlRefusedError
from sublarr.core.delivery.webhook_sender import (
    ALLOWED_METHODS,
    RESERVED_HEADERS,
    URL_MASK,
    _query_items,
    is_credential_name,
    mask_url,
)
from sublarr.core.errors import NotFoundError, SublarrError, ValidationError
from sublarr.core.settings import Settings, current_settings

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
MAX_HEADERS = 20
MAX_HEADER_VALUE = 4096
MAX_ID = 2**63 - 1
MASK = URL_MASK  # a masked value as shown; sent back, it keeps the stored value (same origin only)
_DEFAULT_PORTS = {"http": 80, "https": 443}


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


CONTENT_TYPES = ("application/json", "text/plain", "application/x-www-form-urlencoded")


def _check_templates_and_filters(fields: dict[str, Any]) -> dict[str, Any]:
    """The template and filter options of a webhook (popped from ``fields``), checked for its event."""
    options: dict[str, Any] = {}
    event = fields.get("event_name")
    preset, preset_options = fields.pop("preset", None), fields.pop("preset_options", None)
    if preset is not None:
        if fields.get("body_template"):
            raise ValidationError("preset", "give a preset or a body_template, not both")
        fields["body_template"] = preset_template(preset, preset_options)
    elif preset_options is not None:
        raise ValidationError("preset_options", "only with a preset")
    if "body_template" in fields:
        source = fields.pop("body_template")
        options["body_template"] = check_template(source, event) if source else ""
    if "content_type" in fields:
        content_type = fields.pop("content_type")
        if content_type not in CONTENT_TYPES:
            raise ValidationError("content_type", f"must be one of {', '.join(CONTENT_TYPES)}")
        options["content_type"] = content_type
    if "filters" in fields:
        options["filters"] = check_filters(fields.pop("filters"), event or "*")
    return options


def _with_event_for_checks(stored: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """An update's fields with what the template and filter checks need.

    The event (unchanged) when a template or filters are sent; the stored template and
    filters again when the event changes (they must fit the new one).
    """
    fields = dict(fields)
    changes_event = "event_name" in fields and fields["event_name"] != stored.get("event_name")
    if changes_event:
        if "body_template" not in fields and "preset" not in fields and stored.get("body_template"):
            fields["body_template"] = stored["body_template"]
        if "filters" not in fields and stored.get("filters"):
            fields["filters"] = stored["filters"]
    elif {"body_template", "preset", "filters"} & set(fields):
        fields["event_name"] = stored.get("event_name")
    return fields


def _restore_webhook(stored: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    return _with_event_for_checks(stored, _restore_webhook_credentials(stored, fields))


def _prepare_webhook(fields: dict[str, Any], settings: Settings | None) -> dict[str, Any]:
    options: dict[str, Any] = _check_templates_and_filters(fields)
    if "secret" in fields:
        fields["secret"] = check_secret(fields["secret"]) if fields["secret"] else generate_secret()
    if "method" in fields:
        options["method"] = check_method(fields.pop("method"))
    if "headers" in fields:
        options["headers"] = check_headers(fields.pop("headers"))
    if "url" in fields:
        check_url(fields["url"], settings)
    return options


# ---- masked values sent back -------------------------------------------------------------


def url_origin(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of ``url``, lower-cased, the scheme's default port filled in."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ("", url, None)
    scheme = parts.scheme.lower()
    return (scheme, (parts.hostname or "").lower(), port if port is not None else _DEFAULT_PORTS.get(scheme))


def _masked_url_parts(url: str) -> list[str]:
    """What of ``url`` is masked: ``password``, ``user name`` and ``query value NAME``."""
    try:
        parts = urlsplit(url)
        username, password = parts.username, parts.password
    except ValueError:
        return []
    masked = []
    if password == MASK:
        masked.append("password")
    elif password is None and username == MASK:
        masked.append("user name")
    masked += [
        f"query value {unquote_plus(name)!r}"
        for name, _, value in _query_items(parts.query)
        if value == MASK and is_credential_name(unquote_plus(name))
    ]
    return masked


def _restore_url(url: str, stored: str) -> str:
    """``url`` (same origin as ``stored``) with its masked parts replaced by ``stored``'s values."""
    parts, old = urlsplit(url), urlsplit(stored)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        old_userinfo = old.netloc.rpartition("@")[0] if "@" in old.netloc else None
        user, colon, password = userinfo.partition(":")
        old_user, old_colon, old_password = (old_userinfo or "").partition(":")
        if colon and password == MASK:
            if not old_colon:
                raise ValidationError("url", "the password is masked (****) but none is stored: give it")
            userinfo = f"{user}:{old_password}"
        elif not colon and user == MASK:
            if old_userinfo is None or old_colon:
                raise ValidationError("url", "the user name is masked (****) but none is stored: give it")
            userinfo = old_user
        netloc = f"{userinfo}@{hostport}"
    stored_values: dict[str, str] = {}
    for name, _, value in _query_items(old.query):
        stored_values.setdefault(unquote_plus(name), value)
    items = []
    for name, eq, value in _query_items(parts.query):
        key = unquote_plus(name)
        if value == MASK and is_credential_name(key):
            if key not in stored_values:
                raise ValidationError(
                    "url", f"the query value {key!r} is masked (****) but none is stored: give it"
                )
            value = stored_values[key]
        items.append(f"{name}{eq}{value}")
    return urlunsplit(parts._replace(netloc=netloc, query="&".join(items)))


def _restore_webhook_credentials(stored: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` of an update with masked values (``****``) replaced by the stored ones.

    Only while the URL keeps its origin: a URL moving to another origin is refused while
    it carries masked values, or while stored header values would follow it (masked or
    not sent); the message names the field to give again.
    """
    fields = dict(fields)
    stored_url = stored.get("url") or ""
    stored_headers: dict[str, str] = stored.get("headers") or {}
    url = fields.get("url")
    if isinstance(url, str) and url != stored_url and url == mask_url(stored_url):
        del fields["url"]  # the masked URL as shown, sent back unchanged
        url = None
    moved = isinstance(url, str) and url_origin(url) != url_origin(stored_url)
    if isinstance(url, str) and url != stored_url:
        masked = _masked_url_parts(url)
        if masked and moved:
            raise ValidationError(
                "url",
                f"the new URL has another origin (scheme, host or port) than the stored one and "
                f"masked values (****: {', '.join(masked)}); stored credentials are sent only to "
                "their origin: give them again",
            )
        if masked:
            fields["url"] = _restore_url(url, stored_url)
    headers = fields.get("headers")
    if moved and stored_headers:
        if headers is None:
            raise ValidationError(
                "headers",
                "the new URL has another origin (scheme, host or port) than the stored one: send "
                "the headers again (or {} to drop them); stored header values go only to their origin",
            )
        kept = (
            sorted(name for name, value in dict(headers).items() if value == MASK and name in stored_headers)
            if isinstance(headers, dict)
            else []
        )
        if kept:
            raise ValidationError(
                "headers",
                f"the new URL has another origin (scheme, host or port) than the stored one: give the "
                f"value of {', '.join(map(repr, kept))} again instead of ****; stored header values "
                "go only to their origin",
            )
    elif isinstance(headers, dict):
        fields["headers"] = {
            name: stored_headers[name] if value == MASK and name in stored_headers else value
            for name, value in headers.items()
        }
    return fields


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
    # (stored record, update fields) -> the fields with masked values sent back restored.
    restore: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] = lambda stored, fields: fields

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
    restore=_restore_webhook,
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

    ``enabled=True`` also clears a webhook's failure count and ``disabled_reason``. Masked
    webhook values sent back keep the stored ones while the URL's origin stays (module docs).
    """
    fields = target.restore(get(target, target_id), fields)
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
    **template_and_filters: Any,
) -> dict[str, Any]:
    """Store a webhook after the pipeline's checks; return the record, secret unmasked (show once).

    ``template_and_filters``: ``body_template`` or ``preset`` (+ ``preset_options``),
    ``content_type`` and ``filters`` (``delivery.templates``, ``delivery.filters``).
    """
    fields = WEBHOOK.table.named(name, event_name, url, secret, retry_count, timeout_seconds)
    return add(WEBHOOK, settings=settings, method=method, headers=headers, **fields, **template_and_filters)


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
