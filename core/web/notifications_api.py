"""``/api/v1/notifications``: notification targets sent through Apprise (CRUD and test sends).

The Apprise URL carries the service's credentials, so every response shows it masked
(``discord://****``); sending that mask back on PUT keeps the stored URL. Templates and
filters are checked against the payload keys of the target's events (422 naming the field
and, for templates, the line). ``POST /{notification_id}/test`` sends once now with a
sample payload and returns the outcome (also logged).
"""

from __future__ import annotations

from sublarr.core.delivery.notifications_admin import NOTIFICATION
from sublarr.core.web.schemas import (
    NotificationCreateSchema,
    NotificationListSchema,
    NotificationSchema,
    NotificationUpdateSchema,
)
from sublarr.core.web.targets_api import TargetResource, target_blueprint

notifications_api = target_blueprint(
    TargetResource(
        kind=NOTIFICATION,
        name="notifications",
        tag="Notifications",
        create_schema=NotificationCreateSchema,
        update_schema=NotificationUpdateSchema,
        item_schema=NotificationSchema,
        list_schema=NotificationListSchema,
        summaries={
            "list": "Every notification target, in id order, URLs masked",
            "create": "Store a notification target (an Apprise URL) for some events (* = all)",
            "get": "One notification target, URL masked",
            "update": "Change a notification target (only the fields sent; masked URL = unchanged)",
            "delete": "Delete a notification target (its log stays)",
            "test": "Send a notification once now with a sample payload; the outcome, also logged",
        },
        not_found="No such notification target",
        refused="A value is refused (URL, events, template, filters...)",
    )
)
