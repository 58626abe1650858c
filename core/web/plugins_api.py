"""``/api/v1/plugins``: the installed plugins, their status, hooks and error counts."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from sublarr.core.plugin_manager import get_plugin_manager
from sublarr.core.web.schemas import PluginListSchema

plugins_api = APIBlueprint("plugins", __name__, url_prefix="/api/v1/plugins", tag="Plugins")


@plugins_api.get("")
@plugins_api.output(PluginListSchema)
@plugins_api.doc(summary="Every plugin, built-ins included: status, hooks and error count")
def list_plugins() -> dict[str, Any]:
    return {"plugins": get_plugin_manager().list_plugins(include_builtin=True)}
