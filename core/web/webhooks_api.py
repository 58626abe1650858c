"""``/api/v1/webhooks``: outgoing webhooks (CRUD and test deliveries).

Secrets are Standard Webhooks secrets (``whsec_...``); one is generated when none is sent.
Every response shows the secret masked (``whsec_********abcd``), custom header values as
``****`` and a password in the URL as ``****``. Sending a masked value back on PUT keeps
the stored one, so a client can PUT back what it got; a masked secret that is not the
stored secret's mask is a 409. ``secret: ""`` on PUT makes a new secret. A secret sublarr
generates (POST without ``secret``, PUT with ``secret: ""``) is shown once, in
``generated_secret`` of that one answer, so the receiver can be given it; never again. Masked header
values and URL credentials are kept only while the URL's origin stays the same
(``admin.update``; otherwise 422 naming the field).
"""

from __future__ import annotations

from typing import Any

from sublarr.core.delivery import admin
from sublarr.core.delivery.signing import mask_secret
from sublarr.core.web.api_errors import ConflictError
from sublarr.core.web.schemas import (
    ErrorSchema,
    WebhookCreateSchema,
    WebhookListSchema,
    WebhookSavedSchema,
    WebhookSchema,
    WebhookUpdateSchema,
)
from sublarr.core.web.targets_api import TargetResource, target_blueprint


def _unmask(current: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` without a masked secret sent back unchanged (URL and headers: ``admin.update``)."""
    fields = dict(fields)
    if "secret" in fields:
        if fields["secret"] == mask_secret(current.get("secret")):
            del fields["secret"]
        elif "********" in fields["secret"]:
            raise ConflictError(
                "the masked secret sent is not the stored secret's mask; send the current mask "
                'to keep it, a full whsec_ secret to replace it, or "" for a new one'
            )
    return fields


def _reveal(body: dict[str, Any], record: dict[str, Any], created: bool) -> dict[str, Any]:
    """The secret sublarr just generated (none sent on create, ``""`` on update), for this one answer."""
    generated = body.get("secret") == "" or (created and not body.get("secret"))
    return {"generated_secret": record["secret"]} if generated else {}


webhooks_api = target_blueprint(
    TargetResource(
        kind=admin.WEBHOOK,
        name="webhooks",
        tag="Webhooks",
        create_schema=WebhookCreateSchema,
        update_schema=WebhookUpdateSchema,
        item_schema=WebhookSchema,
        saved_schema=WebhookSavedSchema,
        list_schema=WebhookListSchema,
        summaries={
            "list": "Every webhook, in id order, secrets masked",
            "create": "Store a webhook called on an event (* = all)",
            "get": "One webhook, secret masked",
            "update": "Change a webhook (only the fields sent; masked values keep the stored ones)",
            "delete": "Delete a webhook (its log stays)",
            "test": "Send a webhook once now with a sample payload; the outcome, also logged",
        },
        not_found="No such webhook",
        refused="A value is refused (URL, event name, secret format...)",
        update_responses={
            "r409": ("A masked secret was sent that is not the stored secret's mask", ErrorSchema)
        },
        unmask=_unmask,
        reveal=_reveal,
    )
)
