"""``/api/v1/webhooks``: outgoing webhooks (CRUD and test deliveries).

Secrets are Standard Webhooks secrets (``whsec_...``); one is generated when none is sent.
Responses carry the secret masked (``whsec_********abcd``). Sending that mask back on PUT
keeps the stored secret; a mask that does not match the stored secret is a 409.
"""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIBlueprint

from ..db import hooks as store
from ..delivery.signing import check_secret, generate_secret, mask_secret
from ..errors import NotFoundError
from .api_errors import ConflictError
from .schemas import (
    MAX_ID,
    ErrorSchema,
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


def masked(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with its secret masked, as every response shows it."""
    return {**record, "secret": mask_secret(record.get("secret"))}


def _stored(webhook_id: int) -> dict[str, Any]:
    record = store.get_webhook_config(webhook_id) if webhook_id <= MAX_ID else None
    if record is None:
        raise NotFoundError(f"webhook {webhook_id} does not exist")
    return record


def _looks_masked(secret: str) -> bool:
    return "********" in secret


@webhooks_api.get("")
@webhooks_api.output(WebhookListSchema)
@webhooks_api.doc(summary="Every webhook, in id order, secrets masked")
def list_webhooks() -> dict[str, Any]:
    return {"webhooks": [masked(r) for r in store.get_webhook_configs()]}


@webhooks_api.post("")
@webhooks_api.input(WebhookCreateSchema, arg_name="body")
@webhooks_api.output(WebhookSchema, status_code=201)
@webhooks_api.doc(summary="Store a webhook called on an event (* = all)", responses=responses(r422=_REFUSED))
def create_webhook(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    secret = check_secret(body["secret"]) if body.get("secret") else generate_secret()
    record = store.create_webhook_config(
        body["name"], body["event_name"], body["url"], secret, body["retry_count"], body["timeout_seconds"]
    )
    if not body["enabled"]:
        store.update_webhook_config(record["id"], enabled=False)
        record = _stored(record["id"])
    return masked(record), 201


@webhooks_api.get("/<int:webhook_id>")
@webhooks_api.output(WebhookSchema)
@webhooks_api.doc(summary="One webhook, secret masked", responses=responses(r404=_NOT_FOUND))
def get_webhook(webhook_id: int) -> dict[str, Any]:
    return masked(_stored(webhook_id))


@webhooks_api.put("/<int:webhook_id>")
@webhooks_api.input(WebhookUpdateSchema, arg_name="body")
@webhooks_api.output(WebhookSchema)
@webhooks_api.doc(
    summary="Change a webhook (only the fields sent; the masked secret keeps the stored one)",
    responses=responses(r404=_NOT_FOUND, r409=_CONFLICT, r422=_REFUSED),
)
def update_webhook(webhook_id: int, body: dict[str, Any]) -> dict[str, Any]:
    current = _stored(webhook_id)
    fields = dict(body)
    if "secret" in fields:
        secret = fields["secret"]
        if secret == mask_secret(current.get("secret")):
            del fields["secret"]
        elif _looks_masked(secret):
            raise ConflictError("the masked secret sent is not the stored secret's mask; "
                                "send the current mask to keep it, or a full whsec_ secret")
        else:
            check_secret(secret)
    if fields:
        store.update_webhook_config(webhook_id, **fields)
    return masked(_stored(webhook_id))


@webhooks_api.delete("/<int:webhook_id>")
@webhooks_api.output({}, status_code=204)
@webhooks_api.doc(summary="Delete a webhook (its log stays)", responses=responses(r404=_NOT_FOUND))
def delete_webhook(webhook_id: int) -> tuple[str, int]:
    _stored(webhook_id)
    store.delete_webhook_config(webhook_id)
    return "", 204
