"""``/api/v1/plugins``: the installed plugins, their status, hooks and error counts, and their settings.

``GET /api/v1/plugins/<name>/settings`` lists a loaded plugin's settings with the value in
force and where it comes from (``default``, ``file``, ``api``, ``env``), secrets masked.
``PUT`` stores values given as a JSON object (``null`` removes a stored value); every value
is checked before any is stored. A value set by the environment or ``app.config`` still
wins over a stored one (``sublarr.core.settings.plugins``).
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, List, Nested, Raw, String
from apiflask.validators import OneOf
from marshmallow import INCLUDE

from sublarr.core.errors import ValidationError
from sublarr.core.plugin_manager import get_plugin_manager
from sublarr.core.settings import SettingsError
from sublarr.core.settings.plugins import SOURCES, resolved_settings, store_plugin_settings
from sublarr.core.web.schemas import PluginListSchema

plugins_api = APIBlueprint("plugins", __name__, url_prefix="/api/v1/plugins", tag="Plugins")


class PluginSettingSchema(Schema):
    name = String(required=True)
    type = String(required=True, validate=OneOf(["str", "int", "float", "bool", "list"]))
    default = Raw(required=True, allow_none=True)
    description = String(required=True)
    secret = Boolean(required=True)
    env = String(required=True, metadata={"description": "the environment variable that sets it"})
    value = Raw(required=True, allow_none=True, metadata={"description": "in force; masked if secret"})
    source = String(required=True, validate=OneOf(SOURCES))


class PluginSettingsSchema(Schema):
    plugin = String(required=True)
    settings = List(Nested(PluginSettingSchema), required=True)


class PluginSettingsUpdateSchema(Schema):
    """Setting names and values; ``null`` removes the stored value."""

    class Meta:
        unknown = INCLUDE


@plugins_api.get("")
@plugins_api.output(PluginListSchema)
@plugins_api.doc(summary="Every plugin, built-ins included: status, hooks and error count")
def list_plugins() -> dict[str, Any]:
    return {"plugins": get_plugin_manager().list_plugins(include_builtin=True)}


def _settings_of(name: str) -> dict[str, Any]:
    return {"plugin": name, "settings": [item.as_dict() for item in resolved_settings(name).values()]}


@plugins_api.get("/<string:name>/settings")
@plugins_api.output(PluginSettingsSchema)
@plugins_api.doc(
    summary="A plugin's settings: value in force (secrets masked) and its source", responses=[404]
)
def get_plugin_settings(name: str) -> dict[str, Any]:
    return _settings_of(name)


@plugins_api.put("/<string:name>/settings")
@plugins_api.input(PluginSettingsUpdateSchema, arg_name="changes")
@plugins_api.output(PluginSettingsSchema)
@plugins_api.doc(
    summary="Store values of a plugin's settings (null removes one); all checked first", responses=[404, 422]
)
def put_plugin_settings(name: str, changes: dict[str, Any]) -> dict[str, Any]:
    try:
        store_plugin_settings(name, changes)
    except SettingsError as exc:
        raise ValidationError(None, str(exc)) from None
    return _settings_of(name)
