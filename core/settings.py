"""All of sublarr's configuration, read in one place.

Values come from ``SUBLARR_*`` environment variables; a mapping passed to
``load_settings`` (a Flask ``app.config``, a parsed config file) overrides them key by key,
using the same ``SUBLARR_*`` names.

| key | meaning | default |
| --- | --- | --- |
| ``SUBLARR_LOAD_PLUGINS`` | comma list of third-party plugins to load; empty = built-ins only | unset: all |
| ``SUBLARR_DISABLE_PLUGINS`` | comma list of plugins (built-in or not) never to load | empty |
| ``SUBLARR_TRACE_PLUGINS`` | ``1`` logs every hook call with its result and duration | off |
| ``SUBLARR_DATA_DIR`` | where the embedded database and the API key live | ``~/.local/share/sublarr`` |
| ``SUBLARR_DATABASE_URL`` | any SQLAlchemy URL; overrides the embedded SQLite file | unset |
| ``SUBLARR_SCORING_CACHE_TTL`` | seconds the scorer keeps weights and modifiers | ``60`` |
| ``SUBLARR_HOOKS_DIR`` | the only directory script hooks may live in | ``<data dir>/hooks`` |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import SublarrError


class SettingsError(SublarrError, ValueError):
    """A configuration value that cannot be used."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [str(v) for v in value]
    else:
        items = str(value).split(",")
    return tuple(sorted({item.strip() for item in items if item.strip()}))


def _flag(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SettingsError(f"{key}: expected 1/0, true/false, yes/no or on/off, got {value!r}")


def _positive_float(key: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{key}: expected a number of seconds, got {value!r}") from None
    if not 0 <= number <= 86400:
        raise SettingsError(f"{key}: expected 0..86400 seconds, got {number}")
    return number


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/sublarr`` or ``~/.local/share/sublarr``."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "sublarr"


@dataclass(frozen=True)
class Settings:
    """The effective configuration; build it with ``load_settings``."""

    load_plugins: tuple[str, ...] | None = None
    disable_plugins: tuple[str, ...] = ()
    trace_plugins: bool = False
    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str | None = None
    scoring_cache_ttl: float = 60.0
    hooks_dir: Path | None = None

    @property
    def effective_hooks_dir(self) -> Path:
        """The hooks directory, defaulting to ``<data_dir>/hooks``."""
        return self.hooks_dir if self.hooks_dir is not None else self.data_dir / "hooks"

    def as_dict(self) -> dict[str, Any]:
        """The settings as ``SUBLARR_*`` keys with printable values."""
        return {
            "SUBLARR_LOAD_PLUGINS": None if self.load_plugins is None else ",".join(self.load_plugins),
            "SUBLARR_DISABLE_PLUGINS": ",".join(self.disable_plugins),
            "SUBLARR_TRACE_PLUGINS": self.trace_plugins,
            "SUBLARR_DATA_DIR": str(self.data_dir),
            "SUBLARR_DATABASE_URL": self.database_url,
            "SUBLARR_SCORING_CACHE_TTL": self.scoring_cache_ttl,
            "SUBLARR_HOOKS_DIR": str(self.effective_hooks_dir),
        }


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Read ``SUBLARR_*`` from the environment, then from ``overrides``; raise ``SettingsError``."""
    source: dict[str, Any] = {k: v for k, v in os.environ.items() if k.startswith("SUBLARR_")}
    if overrides:
        source.update({k: v for k, v in overrides.items() if k.startswith("SUBLARR_")})
    kwargs: dict[str, Any] = {}
    if "SUBLARR_LOAD_PLUGINS" in source and source["SUBLARR_LOAD_PLUGINS"] is not None:
        kwargs["load_plugins"] = _names(source["SUBLARR_LOAD_PLUGINS"])
    if source.get("SUBLARR_DISABLE_PLUGINS"):
        kwargs["disable_plugins"] = _names(source["SUBLARR_DISABLE_PLUGINS"])
    if "SUBLARR_TRACE_PLUGINS" in source:
        kwargs["trace_plugins"] = _flag("SUBLARR_TRACE_PLUGINS", source["SUBLARR_TRACE_PLUGINS"])
    if source.get("SUBLARR_DATA_DIR"):
        kwargs["data_dir"] = Path(str(source["SUBLARR_DATA_DIR"])).expanduser()
    if source.get("SUBLARR_DATABASE_URL"):
        kwargs["database_url"] = str(source["SUBLARR_DATABASE_URL"])
    if source.get("SUBLARR_SCORING_CACHE_TTL") not in (None, ""):
        kwargs["scoring_cache_ttl"] = _positive_float(
            "SUBLARR_SCORING_CACHE_TTL", source["SUBLARR_SCORING_CACHE_TTL"]
        )
    if source.get("SUBLARR_HOOKS_DIR"):
        kwargs["hooks_dir"] = Path(str(source["SUBLARR_HOOKS_DIR"])).expanduser()
    return Settings(**kwargs)
