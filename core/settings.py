"""All of sublarr's configuration, read in one place.

Values come from ``SUBLARR_*`` environment variables; a mapping passed to
``load_settings`` (a Flask ``app.config``, a parsed config file) overrides them key by key,
using the same ``SUBLARR_*`` names.

| key | meaning | default |
| --- | --- | --- |
| ``SUBLARR_LOAD_PLUGINS`` | comma list of plugins to load, built-in or not; empty = none | unset: all |
| ``SUBLARR_DISABLE_PLUGINS`` | comma list of plugins (built-in or not) never to load | empty |
| ``SUBLARR_TRACE_PLUGINS`` | ``1`` logs every hook call with its result and duration | off |
| ``SUBLARR_DATA_DIR`` | where the embedded database and the API key live | ``~/.local/share/sublarr`` |
| ``SUBLARR_DATABASE_URL`` | any SQLAlchemy URL; overrides the embedded SQLite file | unset |
| ``SUBLARR_SCORING_CACHE_TTL`` | seconds the scorer keeps weights and modifiers | ``60`` |
| ``SUBLARR_HOOKS_DIR`` | the only directory script hooks may live in | ``<data dir>/hooks`` |
| ``SUBLARR_DELIVERY_WORKERS`` | worker threads running hook and webhook deliveries | ``4`` |
| ``SUBLARR_DELIVERY_POLL_INTERVAL`` | seconds between looks at the queue for other processes' work | ``1`` |
| ``SUBLARR_DELIVERY_LEASE`` | seconds a claim lasts unrenewed (crash recovery) | ``60`` |
| ``SUBLARR_DELIVERY_SHUTDOWN_TIMEOUT`` | seconds a graceful stop waits for running work | ``10`` |
| ``SUBLARR_WEBHOOK_RETRY_BASE`` | seconds before the 1st webhook retry; then 4x each (+-20 %) | ``5`` |
| ``SUBLARR_WEBHOOK_RETRY_MAX`` | longest wait between attempts, ``Retry-After`` included | ``3600`` |
| ``SUBLARR_WEBHOOK_FAILURE_THRESHOLD`` | failed deliveries in a row that disable a webhook | ``10`` |
| ``SUBLARR_WEBHOOK_DENY_NETWORKS`` | networks webhooks may not reach | ``169.254.0.0/16,fe80::/10`` |
| ``SUBLARR_HOOK_OUTPUT_LIMIT`` | bytes of a script's stdout and of its stderr kept in the log | ``4096`` |
| ``SUBLARR_SUBSCRIPTION_CACHE_TTL`` | seconds subscriptions are cached per event | ``5`` |
| ``SUBLARR_HOST`` | address ``sublarr serve`` listens on | ``127.0.0.1`` |
| ``SUBLARR_PORT`` | port ``sublarr serve`` listens on (REST API and Socket.IO) | ``8767`` |
| ``SUBLARR_API_KEY`` | the API key; unset: generated on first start into ``<data dir>/api_key`` | unset |
| ``SUBLARR_SERVER_THREADS`` | request threads of the server (WebSocket clients hold one each) | ``32`` |
| ``SUBLARR_CONFIG_FILE`` | a TOML file with any of these keys (``port = 8767``) | unset |

Precedence, lowest first: defaults, the config file, the environment, ``overrides``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sublarr.core.errors import SublarrError


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


def _port(key: str, value: Any) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise SettingsError(f"{key}: expected a TCP port number, got {value!r}") from None
    if not 0 <= number <= 65535:
        raise SettingsError(f"{key}: expected a TCP port 0..65535, got {number}")
    return number


def _int_in(key: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise SettingsError(f"{key}: expected a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise SettingsError(f"{key}: expected {low}..{high}, got {number}")
    return number


def _networks(key: str, value: Any) -> tuple[str, ...]:
    import ipaddress

    names = [n.strip() for n in (value if isinstance(value, (list, tuple)) else str(value).split(","))]
    out = []
    for name in (str(n).strip() for n in names):
        if not name:
            continue
        try:
            out.append(str(ipaddress.ip_network(name, strict=False)))
        except ValueError:
            raise SettingsError(f"{key}: {name!r} is not a network like 169.254.0.0/16") from None
    return tuple(out)


def _threads(key: str, value: Any) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise SettingsError(f"{key}: expected a number of threads, got {value!r}") from None
    if not 1 <= number <= 1000:
        raise SettingsError(f"{key}: expected 1..1000 threads, got {number}")
    return number


def read_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``SUBLARR_*`` settings in TOML file ``path``; keys may omit the prefix (``port``).

    Raises ``SettingsError`` for a missing or unreadable file, bad TOML, a table or an
    unknown key.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    path = Path(path).expanduser()
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"config file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise SettingsError(f"config file {str(path)!r} cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {str(path)!r} is not valid TOML: {exc}") from None
    values: dict[str, Any] = {}
    for name, value in raw.items():
        key = name.upper() if name.upper().startswith("SUBLARR_") else "SUBLARR_" + name.upper()
        if key not in KNOWN_KEYS or key == "SUBLARR_CONFIG_FILE":
            raise SettingsError(f"config file {str(path)!r}: unknown setting {name!r}")
        if isinstance(value, dict):
            raise SettingsError(f"config file {str(path)!r}: {name!r} must be a value, not a table")
        values[key] = value
    return values


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
    delivery_workers: int = 4
    delivery_poll_interval: float = 1.0
    delivery_lease: float = 60.0
    delivery_shutdown_timeout: float = 10.0
    webhook_retry_base: float = 5.0
    webhook_retry_max: float = 3600.0
    webhook_failure_threshold: int = 10
    webhook_deny_networks: tuple[str, ...] = ("169.254.0.0/16", "fe80::/10")
    hook_output_limit: int = 4096
    subscription_cache_ttl: float = 5.0
    host: str = "127.0.0.1"
    port: int = 8767
    api_key: str | None = field(default=None, repr=False)
    server_threads: int = 32
    config_file: Path | None = None

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
            "SUBLARR_DELIVERY_WORKERS": self.delivery_workers,
            "SUBLARR_DELIVERY_POLL_INTERVAL": self.delivery_poll_interval,
            "SUBLARR_DELIVERY_LEASE": self.delivery_lease,
            "SUBLARR_DELIVERY_SHUTDOWN_TIMEOUT": self.delivery_shutdown_timeout,
            "SUBLARR_WEBHOOK_RETRY_BASE": self.webhook_retry_base,
            "SUBLARR_WEBHOOK_RETRY_MAX": self.webhook_retry_max,
            "SUBLARR_WEBHOOK_FAILURE_THRESHOLD": self.webhook_failure_threshold,
            "SUBLARR_WEBHOOK_DENY_NETWORKS": ",".join(self.webhook_deny_networks),
            "SUBLARR_HOOK_OUTPUT_LIMIT": self.hook_output_limit,
            "SUBLARR_SUBSCRIPTION_CACHE_TTL": self.subscription_cache_ttl,
            "SUBLARR_HOST": self.host,
            "SUBLARR_PORT": self.port,
            "SUBLARR_API_KEY": self.api_key,
            "SUBLARR_SERVER_THREADS": self.server_threads,
            "SUBLARR_CONFIG_FILE": None if self.config_file is None else str(self.config_file),
        }


KNOWN_KEYS: frozenset[str] = frozenset(Settings().as_dict())
SECRET_KEYS: frozenset[str] = frozenset({"SUBLARR_API_KEY"})


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Read ``SUBLARR_*`` from the config file, the environment, then ``overrides``.

    Raises ``SettingsError`` for a value that cannot be used.
    """
    env = {k: v for k, v in os.environ.items() if k.startswith("SUBLARR_")}
    given = {k: v for k, v in (overrides or {}).items() if k.startswith("SUBLARR_")}
    config_file = given.get("SUBLARR_CONFIG_FILE") or env.get("SUBLARR_CONFIG_FILE")
    source: dict[str, Any] = read_config_file(config_file) if config_file else {}
    source.update(env)
    source.update(given)
    kwargs: dict[str, Any] = {}
    if config_file:
        kwargs["config_file"] = Path(str(config_file)).expanduser()
    if source.get("SUBLARR_HOST"):
        kwargs["host"] = str(source["SUBLARR_HOST"]).strip()
    if source.get("SUBLARR_PORT") not in (None, ""):
        kwargs["port"] = _port("SUBLARR_PORT", source["SUBLARR_PORT"])
    if source.get("SUBLARR_API_KEY"):
        kwargs["api_key"] = str(source["SUBLARR_API_KEY"])
    if source.get("SUBLARR_SERVER_THREADS") not in (None, ""):
        kwargs["server_threads"] = _threads("SUBLARR_SERVER_THREADS", source["SUBLARR_SERVER_THREADS"])
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
    kwargs.update(_delivery_settings(source))
    return Settings(**kwargs)


# Delivery pipeline (script hooks and webhooks): setting -> (field, parser).
_DELIVERY_KEYS: dict[str, tuple[str, Any]] = {
    "SUBLARR_DELIVERY_WORKERS": ("delivery_workers", lambda k, v: _int_in(k, v, 1, 64)),
    "SUBLARR_DELIVERY_POLL_INTERVAL": ("delivery_poll_interval", _positive_float),
    "SUBLARR_DELIVERY_LEASE": ("delivery_lease", _positive_float),
    "SUBLARR_DELIVERY_SHUTDOWN_TIMEOUT": ("delivery_shutdown_timeout", _positive_float),
    "SUBLARR_WEBHOOK_RETRY_BASE": ("webhook_retry_base", _positive_float),
    "SUBLARR_WEBHOOK_RETRY_MAX": ("webhook_retry_max", _positive_float),
    "SUBLARR_WEBHOOK_FAILURE_THRESHOLD": (
        "webhook_failure_threshold",
        lambda k, v: _int_in(k, v, 0, 1_000_000),
    ),
    "SUBLARR_WEBHOOK_DENY_NETWORKS": ("webhook_deny_networks", _networks),
    "SUBLARR_HOOK_OUTPUT_LIMIT": ("hook_output_limit", lambda k, v: _int_in(k, v, 0, 1 << 20)),
    "SUBLARR_SUBSCRIPTION_CACHE_TTL": ("subscription_cache_ttl", _positive_float),
}


def _delivery_settings(source: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, (name, parse) in _DELIVERY_KEYS.items():
        value = source.get(key)
        if value is None or (value == "" and key != "SUBLARR_WEBHOOK_DENY_NETWORKS"):
            continue
        out[name] = parse(key, value)
    return out
