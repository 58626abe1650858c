"""The one reader and writer of ``plugin_settings``: plugin setting values stored through the API.

Values arrive checked (``sublarr.core.settings.plugins.store_plugin_settings``) and are
stored as JSON text. Reading never creates a database: with no database open and the
embedded SQLite file missing, nothing was stored (a plugin's command run before the first
``sublarr serve`` leaves no file behind).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from sublarr.core.db.engine import current_engine, get_engine, resolve_database_url
from sublarr.core.db.models import PluginSettingValue, utcnow_iso

_TABLE = PluginSettingValue.__table__


def read_plugin_settings(plugin: str) -> dict[str, Any]:
    """The values stored for ``plugin``, by key."""
    if current_engine() is None:
        url = resolve_database_url(create_dir=False)
        if url.get_backend_name() == "sqlite" and not Path(str(url.database or "")).expanduser().is_file():
            return {}
    with get_engine().connect() as conn:
        rows = conn.execute(select(_TABLE.c.key, _TABLE.c.value).where(_TABLE.c.plugin == plugin))
        return {key: json.loads(value) for key, value in rows}


def write_plugin_settings(plugin: str, values: Mapping[str, Any]) -> None:
    """Store ``values`` for ``plugin`` in one transaction; a ``None`` value removes the key's row."""
    if not values:
        return
    now = utcnow_iso()
    with get_engine().begin() as conn:
        for key, value in values.items():
            conn.execute(delete(_TABLE).where(_TABLE.c.plugin == plugin, _TABLE.c.key == key))
            if value is not None:
                conn.execute(
                    _TABLE.insert().values(plugin=plugin, key=key, value=json.dumps(value), updated_at=now)
                )
