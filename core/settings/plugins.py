"""Settings of plugins: what a plugin declares, where users set values, how they are read.

A plugin declares its settings with the ``register_settings`` hook (name, type, default,
description, secret or not). Users set values, lowest precedence first:

1. the declared default;
2. the config file's ``[plugins.<name>]`` table (``key = value``);
3. the REST API (``PUT /api/v1/plugins/<name>/settings``), stored in the database;
4. the environment, ``SUBLARR_PLUGIN_<NAME>_<KEY>``, and a Flask host's ``app.config``
   (same key; ``app.config`` wins over the environment).

That follows sublarr's rule (flags > environment / ``app.config`` > file): a value the API
stores replaces the file's, and an operator's environment pins a value the API cannot
change (``GET`` says where each value comes from). ``<NAME>``/``<KEY>`` are the names in
upper case with every character other than a letter or digit as ``_``.

Values from the file and the environment are checked when sublarr starts
(``check_configured``: the command line, ``Sublarr.init_app``); a bad one ends it with
``plugin 'x' setting 'y': ...``. The API refuses a bad value before storing anything.
Plugins read their values with ``plugin_settings(name)`` / ``plugin_setting(name, key)``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sublarr.core.errors import NotFoundError
from sublarr.core.settings import PLUGIN_PREFIX, Settings, SettingsError, current_settings

logger = logging.getLogger(__name__)

SETTING_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MASK = "********"
# source of a value, lowest precedence first
SOURCES = ("default", "file", "api", "env")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _as_str(value: Any, from_text: bool) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {value!r}")
    return value


def _as_int(value: Any, from_text: bool) -> int:
    if from_text and isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise ValueError(f"expected a whole number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {value!r}")
    return value


def _as_float(value: Any, from_text: bool) -> float:
    if from_text and isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


def _as_bool(value: Any, from_text: bool) -> bool:
    if isinstance(value, bool):
        return value
    if from_text and isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError(f"expected true or false (1/0, yes/no, on/off in the environment), got {value!r}")


def _as_list(value: Any, from_text: bool) -> list[str]:
    if from_text and isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"expected a list of texts (comma-separated in the environment), got {value!r}")
    return list(value)


# type name -> (the Python type a plugin may name instead, parser)
TYPES: dict[str, tuple[type, Callable[[Any, bool], Any]]] = {
    "str": (str, _as_str),
    "int": (int, _as_int),
    "float": (float, _as_float),
    "bool": (bool, _as_bool),
    "list": (list, _as_list),
}
_TYPE_NAMES = {python_type: name for name, (python_type, _) in TYPES.items()}


@dataclass(frozen=True)
class PluginSetting:
    """One setting a plugin declared: ``type`` is one of ``TYPES`` (``str``, ``int``...)."""

    plugin: str
    name: str
    type: str
    default: Any
    description: str
    secret: bool

    @property
    def env_key(self) -> str:
        """The environment variable (and ``app.config`` key) that sets it."""
        return env_key(self.plugin, self.name)

    def parse(self, value: Any, from_text: bool = False) -> Any:
        """``value`` as this setting's type; ``SettingsError`` naming plugin and key if it is not one.

        ``from_text``: ``value`` comes from the environment, where everything is text.
        """
        try:
            return TYPES[self.type][1](value, from_text)
        except ValueError as exc:
            raise SettingsError(f"plugin {self.plugin!r} setting {self.name!r}: {exc}") from None

    def shown(self, value: Any) -> Any:
        """``value`` as users may see it: secrets that are set are masked."""
        return MASK if self.secret and value not in (None, "") else value

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready declaration (the default of a secret masked)."""
        return {
            "name": self.name,
            "type": self.type,
            "default": self.shown(self.default),
            "description": self.description,
            "secret": self.secret,
            "env": self.env_key,
        }


def env_key(plugin: str, name: str) -> str:
    """``SUBLARR_PLUGIN_<NAME>_<KEY>`` for ``plugin``'s setting ``name``."""
    return f"{PLUGIN_PREFIX}{_upper(plugin)}_{_upper(name)}"


def _upper(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


def declare(
    plugin: str,
    name: Any,
    type: Any = str,  # noqa: A002 - the word plugin authors use
    default: Any = None,
    description: str = "",
    secret: bool = False,
) -> PluginSetting:
    """A checked ``PluginSetting``; ``ValueError`` for a bad name, type or default."""
    if not isinstance(name, str) or not SETTING_NAME.match(name):
        raise ValueError(
            f"setting name {name!r} must be lower case: a letter, then letters, digits or _ (at most 64)"
        )
    type_name = _TYPE_NAMES.get(type, type if type in TYPES else None)
    if type_name is None:
        raise ValueError(f"setting {name!r}: type {type!r} is not one of {', '.join(TYPES)}")
    setting = PluginSetting(plugin, name, type_name, default, str(description or ""), bool(secret))
    if default is not None:
        try:
            setting = PluginSetting(
                plugin, name, type_name, setting.parse(default), setting.description, setting.secret
            )
        except SettingsError as exc:
            raise ValueError(f"setting {name!r}: default {default!r} does not fit type {type_name}") from exc
    return setting


@dataclass(frozen=True)
class ResolvedValue:
    """A setting's value in force and where it comes from (one of ``SOURCES``)."""

    setting: PluginSetting
    value: Any
    source: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the declaration plus ``value`` (masked for a secret) and ``source``."""
        return {**self.setting.as_dict(), "value": self.setting.shown(self.value), "source": self.source}


def check_configured(declared: Mapping[str, Mapping[str, PluginSetting]], settings: Settings) -> None:
    """Raise ``SettingsError`` for the first value given in the file or the environment that a
    loaded plugin cannot use: a bad value, or a key of its ``[plugins.<name>]`` table it does
    not declare. Tables of plugins that are not loaded are left alone (the plugin may be
    disabled for now)."""
    for plugin, table in settings.plugin_tables.items():
        known = declared.get(plugin)
        if known is None:
            logger.info("config file: [plugins.%s] names no loaded plugin; ignored", plugin)
            continue
        for key, value in table.items():
            setting = known.get(key)
            if setting is None:
                names = ", ".join(sorted(known)) or "none"
                raise SettingsError(f"plugin {plugin!r} setting {key!r}: no such setting (it has: {names})")
            setting.parse(value)
    for settings_of in declared.values():
        for setting in settings_of.values():
            if setting.env_key in settings.plugin_vars:
                setting.parse(settings.plugin_vars[setting.env_key], from_text=True)


def resolve(
    settings_of: Mapping[str, PluginSetting], settings: Settings, stored: Mapping[str, Any]
) -> dict[str, ResolvedValue]:
    """Every setting of one plugin with its value in force (see the module docs for the order).

    ``stored`` holds the values the API stored; one that no longer fits (the plugin changed
    the setting's type) is logged and skipped.
    """
    out: dict[str, ResolvedValue] = {}
    for name, setting in settings_of.items():
        value, source = setting.default, "default"
        table = settings.plugin_tables.get(setting.plugin, {})
        if name in table:
            value, source = setting.parse(table[name]), "file"
        if name in stored:
            try:
                value, source = setting.parse(stored[name]), "api"
            except SettingsError as exc:
                logger.warning("stored value ignored: %s", exc)
        if setting.env_key in settings.plugin_vars:
            value, source = setting.parse(settings.plugin_vars[setting.env_key], from_text=True), "env"
        out[name] = ResolvedValue(setting, value, source)
    return out


class StoredValues:
    """The values the API stored, per plugin, read from the database and kept ``ttl`` seconds
    (a write through ``store`` is seen at once; one made by another process after ``ttl``)."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        # per plugin: (settings, stored values, declarations, resolved, values) they were resolved from
        self.resolved: dict[str, tuple[Any, ...]] = {}

    def get(self, plugin: str, ttl: float) -> dict[str, Any]:
        """The stored values of ``plugin`` (empty when the database cannot be read)."""
        cached = self._cache.get(plugin)
        now = time.monotonic()
        if cached is not None and now - cached[0] < ttl:
            return cached[1]
        from sublarr.core.db.plugin_settings import read_plugin_settings

        try:
            values = read_plugin_settings(plugin)
        except Exception as exc:  # noqa: BLE001 - settings from the file and environment still hold
            logger.warning("plugin %r: stored settings not read: %s", plugin, exc)
            values = {}
        self._cache[plugin] = (now, values)
        return values

    def forget(self, plugin: str | None = None) -> None:
        """Read ``plugin``'s (every plugin's) values afresh on next use."""
        if plugin is None:
            self._cache.clear()
            self.resolved.clear()
        else:
            self._cache.pop(plugin, None)
            self.resolved.pop(plugin, None)


_NONE_DECLARED: Mapping[str, PluginSetting] = MappingProxyType({})


def _declared(plugin: str) -> tuple[Any, Mapping[str, PluginSetting]]:
    from sublarr.core.plugin_manager import get_plugin_manager

    pm = get_plugin_manager()
    settings_of = pm.declared_settings.get(plugin)
    if settings_of is None:
        if not pm.has_plugin(plugin):
            raise NotFoundError(f"plugin {plugin!r} is not loaded")
        return pm, _NONE_DECLARED
    return pm, settings_of


def resolved_settings(plugin: str) -> dict[str, ResolvedValue]:
    """Every setting of loaded ``plugin`` with its value and source; ``NotFoundError`` if it has none."""
    return dict(_resolved(plugin)[0])


def _resolved(plugin: str) -> tuple[dict[str, ResolvedValue], dict[str, Any]]:
    """``plugin``'s resolved settings and their values, kept while the settings in force and the
    stored values stay the same objects (about 1 us a call then, instead of 20)."""
    pm, settings_of = _declared(plugin)
    settings = current_settings()
    stored = pm.stored_settings.get(plugin, settings.subscription_cache_ttl)
    cached = pm.stored_settings.resolved.get(plugin)
    if cached is not None and cached[0] is settings and cached[1] is stored and cached[2] is settings_of:
        return cached[3], cached[4]
    resolved = resolve(settings_of, settings, stored)
    values = {name: item.value for name, item in resolved.items()}
    pm.stored_settings.resolved[plugin] = (settings, stored, settings_of, resolved, values)
    return resolved, values


def plugin_settings(plugin: str) -> dict[str, Any]:
    """The values in force of every setting ``plugin`` declares, by name (a new dict each call).

    ``plugin`` is the plugin's name (its entry-point name). Raises ``NotFoundError`` when no
    plugin of that name is loaded.
    """
    return dict(_resolved(plugin)[1])


def plugin_setting(plugin: str, key: str) -> Any:
    """The value in force of ``plugin``'s setting ``key``; ``NotFoundError`` if it has no such setting."""
    values = _resolved(plugin)[1]
    if key not in values:
        raise NotFoundError(f"plugin {plugin!r} has no setting {key!r}")
    return values[key]


def store_plugin_settings(plugin: str, changes: Mapping[str, Any]) -> dict[str, ResolvedValue]:
    """Store values set through the API (``None`` removes one); all checked before any is written.

    Raises ``NotFoundError`` (unknown plugin) or ``SettingsError`` naming plugin and key; returns
    the settings in force afterwards.
    """
    from sublarr.core.db.plugin_settings import write_plugin_settings

    pm, settings_of = _declared(plugin)
    if not isinstance(changes, Mapping):
        raise SettingsError(f"plugin {plugin!r}: expected an object of setting names and values")
    checked: dict[str, Any] = {}
    for key, value in changes.items():
        setting = settings_of.get(key)
        if setting is None:
            names = ", ".join(sorted(settings_of)) or "none"
            raise SettingsError(f"plugin {plugin!r} setting {key!r}: no such setting (it has: {names})")
        if setting.secret and value == MASK:
            continue  # the masked value shown by GET, sent back unchanged
        checked[key] = None if value is None else setting.parse(value)
    write_plugin_settings(plugin, checked)
    pm.stored_settings.forget(plugin)
    return resolved_settings(plugin)


__all__ = [
    "MASK",
    "SOURCES",
    "TYPES",
    "PluginSetting",
    "ResolvedValue",
    "check_configured",
    "declare",
    "env_key",
    "plugin_setting",
    "plugin_settings",
    "resolve",
    "resolved_settings",
    "store_plugin_settings",
]
