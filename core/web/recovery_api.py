"""``POST /api/v1/deliveries/recover``: send again every failed delivery of one target since a time.

The deliveries keep their ids, so receivers see the same ``webhook-id`` and can
de-duplicate (``sublarr.core.delivery.recovery``). 202 with the ids queued again; 404 for
a target that does not exist; 409 when it is disabled; 422 for a bad ``since``.
"""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIBlueprint

from sublarr.core.delivery.recovery import recover_failed
from sublarr.core.web.schemas import ErrorSchema, RecoverRequestSchema, RecoverySchema, responses

logger = logging.getLogger(__name__)

recovery_api = APIBlueprint("recovery", __name__, url_prefix="/api/v1/deliveries", tag="Deliveries")


@recovery_api.post("/recover")
@recovery_api.input(RecoverRequestSchema, arg_name="body")
@recovery_api.output(RecoverySchema, status_code=202)
@recovery_api.doc(
    summary="Send again every failed delivery of a hook, webhook or notification target since a time",
    description="Each failed delivery whose event was queued at or after `since` is queued again "
    "with its own id (the same `webhook-id`), due now, with a fresh round of attempts.",
    responses=responses(
        r404=("No such hook, webhook or notification target", ErrorSchema),
        r409=("The target is disabled; nothing was queued", ErrorSchema),
    ),
)
def recover(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    result = recover_failed(body["kind"], body["target_id"], body["since"])
    logger.info("recovery through the API: %d delivery(ies) queued again", len(result.requeued))
    return result.as_dict(), 202
