"""The one ``Settings`` of a ``sublarr`` invocation and how commands get it.

The root group makes it from its global flags (``--config``, ``--data-dir``,
``--log-level``) over the environment over the config file, and puts it in force for the
command: ``get_settings()`` returns it, and so do ``current_settings()`` and
``load_settings()`` anywhere in the process (the database and the plugin manager use it).
``serve`` and ``config show`` add their own flags on top (``settings_with``).
"""

from __future__ import annotations

from typing import Any

import click

from sublarr.core.settings import Settings, load_settings, settings_in_force
from sublarr.core.settings.log_format import logging_to_stderr

ROOT_FLAGS = {
    "config_file": "SUBLARR_CONFIG_FILE",
    "data_dir": "SUBLARR_DATA_DIR",
    "log_level": "SUBLARR_LOG_LEVEL",
}
_SETTINGS_KEY = "sublarr.settings"


def root_overrides(ctx: click.Context) -> dict[str, Any]:
    """The global flags given on the command line, as ``SUBLARR_*`` keys."""
    params = ctx.find_root().params
    return {key: params[name] for name, key in ROOT_FLAGS.items() if params.get(name) is not None}


def settings_with(ctx: click.Context, **overrides: Any) -> Settings:
    """Settings from the global flags plus ``overrides`` (``SUBLARR_*`` keys; ``None`` = not given)."""
    given = {key: value for key, value in overrides.items() if value is not None}
    return load_settings({**root_overrides(ctx), **given})


def get_settings(ctx: click.Context | None = None) -> Settings:
    """The settings of this invocation, made once from the global flags, environment and config file."""
    root = (ctx or click.get_current_context()).find_root()
    settings = root.meta.get(_SETTINGS_KEY)
    if settings is None:
        settings = settings_with(root)
        root.meta[_SETTINGS_KEY] = settings
    return settings


def use_settings(ctx: click.Context, settings: Settings, default_log_level: str = "warning") -> Settings:
    """Make ``settings`` the invocation's until ``ctx`` ends: in force, logging, plugins loaded."""
    from sublarr.core.plugin_manager import load_plugins

    ctx.find_root().meta[_SETTINGS_KEY] = settings
    ctx.with_resource(settings_in_force(settings))
    ctx.with_resource(logging_to_stderr(settings.effective_log_level(default_log_level)))
    load_plugins(settings).check_plugin_settings(settings)
    return settings


def plugin_settings_shown() -> dict[str, Any]:
    """Every loaded plugin's settings as ``SUBLARR_PLUGIN_<NAME>_<KEY>`` -> value in force (secrets
    masked), for ``sublarr config show``."""
    from sublarr.core.plugin_manager import get_plugin_manager
    from sublarr.core.settings.plugins import resolved_settings

    shown: dict[str, Any] = {}
    for plugin in sorted(get_plugin_manager().declared_settings):
        for item in resolved_settings(plugin).values():
            value = item.setting.shown(item.value)
            shown[item.setting.env_key] = ",".join(value) if isinstance(value, list) else value
    return shown
