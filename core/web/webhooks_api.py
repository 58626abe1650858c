"""``/api/v1/webhooks``: outgoing webhooks (CRUD and test deliveries).

Secrets are Standard Webhooks secrets (``whsec_...``); one is generated when none is sent.
Every response shows the secret masked (``whsec_********abcd``), custom header values as
``****`` and a password in the URL as ``****``. Sending a masked value back on PUT keeps
the stored one, so a client can PUT back what it got; a masked secret that is not the
stored secret's mask is a 409. ``secret: ""`` on PUT makes a new secret.
"""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIBlueprint
from flask import current_app

from sublarr.core.delivery import admin
from sublarr.core.delivery.fire import test_webhook
from sublarr.core.delivery.signing import mask_secret
from sublarr.core.delivery.url_policy import UrlRefusedError
from sublarr.core.errors import NotFoundError, ValidationError
from sublarr.core.web.api_errors import ConflictError
from sublarr.core.web.schemas import (
    MAX_ID,
    ErrorSchema,
    TestResultSchema,
    WebhookCreateSchema,
    WebhookListSchema,
    WebhookSchema,
    WebhookUpdateSchema,
    responses,
)

logger = logging.getLogger(__name__)

webhooks_api = APIBlueprint("webhooks", __name__, url_prefix="/api/v1/webhooks", tag="Webhooks")

_NOT_FOUND = ("No such webhook", ErrorSchema)
_REFUSED = ("A value is refused (URL, event name, secret format...)", ErrorSchema)
_CONFLICT = ("A masked secret was sent that is not the stored secret's mask", ErrorSchema)
MASK = "****"


def _settings() -> Any:
    return current_app.extensions["sublarr.settings"]


def _stored(webhook_id: int) -> dict[str, Any]:
    if not 1 <= webhook_id <= MAX_ID:
        raise NotFoundError(f"webhook {webhook_id} does not exist")
    return admin.get_webhook(webhook_id)


def _unmask(current: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` without the masked values a client sent back unchanged."""
    fields = dict(fields)
    if "secret" in fields:
        if fields["secret"] == mask_secret(current.get("secret")):
            del fields["secret"]
        elif "********" in fields["secret"]:
            raise ConflictError(
                "the masked secret sent is not the stored secret's mask; send the current mask "
                'to keep it, a full whsec_ secret to replace it, or "" for a new one'
            )
    if "url" in fields and fields["url"] == admin.public_webhook(current)["url"] != current["url"]:
        del fields["url"]
    if "headers" in fields:
        stored = current.get("headers") or {}
        fields["headers"] = {
            name: stored[name] if value == MASK and name in stored else value
            for name, value in fields["headers"].items()
        }
    return fields


def _refused_url(exc: UrlRefusedError) -> ValidationError:
    return ValidationError("url", str(exc))


@webhooks_api.get("")
@webhooks_api.output(WebhookListSchema)
@webhooks_api.doc(summary="Every webhook, in id order, secrets masked")
def list_webhooks() -> dict[str, Any]:
    return {"webhooks": admin.list_webhooks()}


@webhooks_api.post("")
@webhooks_api.input(WebhookCreateSchema, arg_name="body")
@webhooks_api.output(WebhookSchema, status_code=201)
@webhooks_api.doc(summary="Store a webhook called on an event (* = all)", responses=responses(r422=_REFUSED))
def create_webhook(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    try:
        record = admin.add_webhook(
            body["name"],
            body["event_name"],
            body["url"],
            body.get("secret") or None,
            body["retry_count"],
            body["timeout_seconds"],
            method=body["method"],
            headers=body["headers"],
            settings=_settings(),
        )
    except UrlRefusedError as exc:
        raise _refused_url(exc) from None
    if not body["enabled"]:
        record = admin.update_webhook(record["id"], enabled=False, settings=_settings())
    logger.info("webhook %d created through the API", record["id"])
    return admin.public_webhook(record), 201


@webhooks_api.get("/<int:webhook_id>")
@webhooks_api.output(WebhookSchema)
@webhooks_api.doc(summary="One webhook, secret masked", responses=responses(r404=_NOT_FOUND))
def get_webhook(webhook_id: int) -> dict[str, Any]:
    return admin.public_webhook(_stored(webhook_id))


@webhooks_api.put("/<int:webhook_id>")
@webhooks_api.input(WebhookUpdateSchema, arg_name="body")
@webhooks_api.output(WebhookSchema)
@webhooks_api.doc(
    summary="Change a webhook (only the fields sent; masked values keep the stored ones)",
    responses=responses(r404=_NOT_FOUND, r409=_CONFLICT, r422=_REFUSED),
)
def update_webhook(webhook_id: int, body: dict[str, Any]) -> dict[str, Any]:
    fields = _unmask(_stored(webhook_id), body)
    try:
        record = admin.update_webhook(webhook_id, settings=_settings(), **fields)
    except UrlRefusedError as exc:
        raise _refused_url(exc) from None
    return admin.public_webhook(record)


@webhooks_api.delete("/<int:webhook_id>")
@webhooks_api.output({}, status_code=204)
@webhooks_api.doc(summary="Delete a webhook (its log stays)", responses=responses(r404=_NOT_FOUND))
def delete_webhook(webhook_id: int) -> tuple[str, int]:
    _stored(webhook_id)
    admin.remove_webhook(webhook_id)
    return "", 204


@webhooks_api.post("/<int:webhook_id>/test")
@webhooks_api.output(TestResultSchema)
@webhooks_api.doc(
    summary="Send a webhook once now with a sample payload; the outcome, also logged",
    responses=responses(r404=_NOT_FOUND),
)
def run_test(webhook_id: int) -> dict[str, Any]:
    _stored(webhook_id)
    result = test_webhook(webhook_id, settings=_settings())
    logger.info("webhook %d tested through the API: %s", webhook_id, result.outcome)
    return result.as_dict()
