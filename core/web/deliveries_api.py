"""``/api/v1/deliveries``: one queued delivery, and sending a finished one again.

A delivery's id is the ``webhook-id`` its receiver sees (the same on every attempt); each
``hook_log`` row names it in ``delivery_id``. ``POST /deliveries/{id}/redeliver`` queues a
delivered, failed or skipped delivery again with the same id and a fresh round of
attempts (``sublarr.core.delivery.redelivery``).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from apiflask import APIBlueprint

from sublarr.core.delivery import store
from sublarr.core.delivery.redelivery import KEPT_DAYS, redeliver
from sublarr.core.errors import NotFoundError
from sublarr.core.web.schemas import DeliveryEnvelopeSchema, ErrorSchema, responses

logger = logging.getLogger(__name__)

deliveries_api = APIBlueprint("deliveries", __name__, url_prefix="/api/v1/deliveries", tag="Deliveries")


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "payload": json.loads(row["payload"])}


@deliveries_api.get("/<string:delivery_id>")
@deliveries_api.output(DeliveryEnvelopeSchema)
@deliveries_api.doc(
    summary="One delivery: its event, payload, status and attempts",
    responses=responses(r404=(f"No such delivery (finished ones are kept {KEPT_DAYS} days)", ErrorSchema)),
)
def get_delivery(delivery_id: str) -> dict[str, Any]:
    row = store.get_delivery(delivery_id)
    if row is None:
        raise NotFoundError(
            f"no delivery {delivery_id!r} is kept (finished deliveries are kept {KEPT_DAYS} days)"
        )
    return {"delivery": _public(row)}


@deliveries_api.post("/<string:delivery_id>/redeliver")
@deliveries_api.output(DeliveryEnvelopeSchema, status_code=202)
@deliveries_api.doc(
    summary="Send a finished delivery again, with the same webhook-id",
    description="Queues a delivered, failed or skipped delivery again, due now, with a fresh round "
    "of attempts; receivers that de-duplicate on `webhook-id` see the same message id. Each "
    "attempt adds a log row with this `delivery_id`.",
    responses=responses(
        r404=(f"No such delivery (finished ones are kept {KEPT_DAYS} days)", ErrorSchema),
        r409=("Still queued, or its hook or webhook is deleted or disabled; nothing changed", ErrorSchema),
    ),
)
def redeliver_delivery(delivery_id: str) -> tuple[dict[str, Any], int]:
    return {"delivery": _public(redeliver(delivery_id))}, 202
