"""All of sublarr's configuration: one table of settings, one loader, one object in force.

``SETTINGS`` declares every setting (``SUBLARR_*`` key, parser, default, description). It
drives parsing, ``sublarr config show`` / ``sublarr config keys`` and the settings table
in README.md (a test fails when that table differs; ``make docs`` rewrites it).

``load_settings(overrides)`` builds a ``Settings`` from, lowest first: the defaults, the
config file, the ``SUBLARR_*`` environment, then ``overrides`` (command-line flags, or a
Flask app's ``app.config``). The config file is ``SUBLARR_CONFIG_FILE`` (or ``--config``),
else ``$XDG_CONFIG_HOME/sublarr/sublarr.toml`` (``~/.config/sublarr/sublarr.toml``) when
that file exists, so a server and a command line started without flags agree.

Entry points put the settings they made in force: the ``sublarr`` command for the time a
command runs (``settings_in_force``), the Flask extension for its app (the app's
``extensions["sublarr.settings"]``, seen inside its app context). ``current_settings()``
(and ``load_settings()`` without arguments) returns those, and reads the file and the
environment afresh when no entry point set any.
"""

from __future__ import annotations

import ipaddress
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from sublarr.core.errors import SublarrError

PREFIX = "SUBLARR_"
CONFIG_FILE_NAME = "sublarr.toml"
FLASK_SETTINGS_KEY = "sublarr.settings"
# Plugin settings: the config file's [plugins.<name>] tables, SUBLARR_PLUGIN_<NAME>_<KEY> variables.
PLUGIN_TABLES = "plugins"
PLUGIN_PREFIX = "SUBLARR_PLUGIN_"
PLUGIN_FIELD: Mapping[str, bool] = {"plugin_settings": True}  # metadata of the Settings fields holding them
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


class SettingsError(SublarrError, ValueError):
    """A configuration value that cannot be used."""


# -- parsers: each turns a raw value (text from the environment, a TOML value) into a field value ---------


class _Parser:
    """Parses one setting's raw value; ``kind`` names the accepted values in the docs."""

    kind = "text"

    def __call__(self, key: str, value: Any) -> Any:
        return str(value).strip()


class _Text(_Parser):
    def __init__(self, kind: str = "text") -> None:
        self.kind = kind


class _PathValue(_Parser):
    kind = "path"

    def __call__(self, key: str, value: Any) -> Path:
        return Path(str(value).strip()).expanduser()


class _Names(_Parser):
    kind = "comma list"

    def __call__(self, key: str, value: Any) -> tuple[str, ...]:
        items = [str(v) for v in value] if isinstance(value, (list, tuple)) else str(value).split(",")
        return tuple(sorted({item.strip() for item in items if item.strip()}))


class _Flag(_Parser):
    kind = "1/0, true/false, yes/no, on/off"
    _TRUE = frozenset({"1", "true", "yes", "on"})
    _FALSE = frozenset({"0", "false", "no", "off", ""})

    def __call__(self, key: str, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in self._TRUE:
            return True
        if text in self._FALSE:
            return False
        raise SettingsError(f"{key}: expected 1/0, true/false, yes/no or on/off, got {value!r}")


class _Seconds(_Parser):
    kind = "seconds, 0..86400"

    def __call__(self, key: str, value: Any) -> float:
        if isinstance(value, bool):
            raise SettingsError(f"{key}: expected a number of seconds, got {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{key}: expected a number of seconds, got {value!r}") from None
        if not 0 <= number <= 86400:
            raise SettingsError(f"{key}: expected 0..86400 seconds, got {number}")
        return number


class _Whole(_Parser):
    def __init__(self, low: int, high: int, what: str = "a whole number") -> None:
        self.low, self.high, self.what = low, high, what
        self.kind = f"whole number, {low}..{high}"

    def __call__(self, key: str, value: Any) -> int:
        if isinstance(value, (bool, float)):
            raise SettingsError(f"{key}: expected {self.what}, got {value!r}")
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            raise SettingsError(f"{key}: expected {self.what}, got {value!r}") from None
        if not self.low <= number <= self.high:
            raise SettingsError(f"{key}: expected {self.what} {self.low}..{self.high}, got {number}")
        return number


class _Networks(_Parser):
    kind = "comma list of networks"

    def __call__(self, key: str, value: Any) -> tuple[str, ...]:
        names = value if isinstance(value, (list, tuple)) else str(value).split(",")
        out = []
        for name in (str(n).strip() for n in names):
            if not name:
                continue
            try:
                out.append(str(ipaddress.ip_network(name, strict=False)))
            except ValueError:
                raise SettingsError(f"{key}: {name!r} is not a network like 169.254.0.0/16") from None
        return tuple(out)


class _LogLevel(_Parser):
    kind = "/".join(LOG_LEVELS)

    def __call__(self, key: str, value: Any) -> str:
        level = str(value).strip().lower()
        if level == "warn":
            level = "warning"
        if level not in LOG_LEVELS:
            raise SettingsError(f"{key}: expected one of {', '.join(LOG_LEVELS)}, got {value!r}")
        return level


class _MessageQueueUrl(_Parser):
    kind = "redis:// or rediss:// URL"

    def __call__(self, key: str, value: Any) -> str:
        url = str(value).strip()
        if not url.lower().startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError(f"{key}: expected a redis://, rediss:// or unix:// URL, got {url!r}")
        return url


# -- the table -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One setting: its ``SUBLARR_*`` key, the ``Settings`` field it fills, how it is parsed and shown.

    ``keep_empty``: an empty value means something (an empty list) instead of "unset".
    ``default_doc``: how the docs state the default when the field default does not say it.
    """

    key: str
    field: str
    parse: _Parser
    description: str
    default_doc: str | None = None
    keep_empty: bool = False
    secret: bool = False
    in_file: bool = True

    @property
    def file_name(self) -> str:
        """The name in a config file: the key without the prefix, lower case."""
        return self.key[len(PREFIX) :].lower()


_SECONDS = _Seconds()

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "SUBLARR_CONFIG_FILE",
        "config_file",
        _PathValue(),
        "a TOML file with any of these settings (`port = 8767`); also `--config FILE`",
        default_doc="`$XDG_CONFIG_HOME/sublarr/sublarr.toml` (`~/.config/sublarr/...`) if it exists",
        in_file=False,
    ),
    Setting(
        "SUBLARR_DATA_DIR",
        "data_dir",
        _PathValue(),
        "where the embedded database, the API key and the hooks live; also `--data-dir DIR`",
        default_doc="`$XDG_DATA_HOME/sublarr` (`~/.local/share/sublarr`)",
    ),
    Setting(
        "SUBLARR_DATABASE_URL",
        "database_url",
        _Text("SQLAlchemy URL"),
        "any SQLAlchemy URL (`postgresql+psycopg://...`); overrides the embedded SQLite file",
        default_doc="unset: `<data dir>/sublarr.db`",
    ),
    Setting(
        "SUBLARR_LOG_LEVEL",
        "log_level",
        _LogLevel(),
        "what the command line and the server log (to stderr); also `--log-level LEVEL`",
        default_doc="`info` for `sublarr serve`, `warning` for other commands",
    ),
    Setting(
        "SUBLARR_LOAD_PLUGINS",
        "load_plugins",
        _Names(),
        "plugins to load, built-in or not (`sublarr`: the built-ins); empty: none",
        default_doc="unset: all installed",
        keep_empty=True,
    ),
    Setting(
        "SUBLARR_DISABLE_PLUGINS", "disable_plugins", _Names(), "plugins (built-in or not) never to load"
    ),
    Setting(
        "SUBLARR_TRACE_PLUGINS", "trace_plugins", _Flag(), "log every hook call with its result and duration"
    ),
    Setting(
        "SUBLARR_SCORING_CACHE_TTL",
        "scoring_cache_ttl",
        _SECONDS,
        "how long the scorer keeps weights and modifiers",
    ),
    Setting(
        "SUBLARR_HOOKS_DIR",
        "hooks_dir",
        _PathValue(),
        "the only directory script hooks may live in",
        default_doc="`<data dir>/hooks`",
    ),
    Setting(
        "SUBLARR_DELIVERY_WORKERS",
        "delivery_workers",
        _Whole(1, 64),
        "worker threads running hook and webhook deliveries",
    ),
    Setting(
        "SUBLARR_DELIVERY_POLL_INTERVAL",
        "delivery_poll_interval",
        _SECONDS,
        "how often the workers look for work queued by other processes",
    ),
    Setting(
        "SUBLARR_DELIVERY_LEASE",
        "delivery_lease",
        _SECONDS,
        "how long a claim lasts unrenewed (crash recovery)",
    ),
    Setting(
        "SUBLARR_DELIVERY_SHUTDOWN_TIMEOUT",
        "delivery_shutdown_timeout",
        _SECONDS,
        "how long a graceful stop waits for running deliveries",
    ),
    Setting(
        "SUBLARR_WEBHOOK_RETRY_BASE",
        "webhook_retry_base",
        _SECONDS,
        "wait before the first webhook retry; then 4x each time (+-20 %)",
    ),
    Setting(
        "SUBLARR_WEBHOOK_RETRY_MAX",
        "webhook_retry_max",
        _SECONDS,
        "longest wait between webhook attempts, `Retry-After` included",
    ),
    Setting(
        "SUBLARR_WEBHOOK_FAILURE_THRESHOLD",
        "webhook_failure_threshold",
        _Whole(0, 1_000_000),
        "failed deliveries in a row that disable a webhook (`0`: never)",
    ),
    Setting(
        "SUBLARR_WEBHOOK_DENY_NETWORKS",
        "webhook_deny_networks",
        _Networks(),
        "networks webhooks may not reach; empty: none",
        keep_empty=True,
    ),
    Setting(
        "SUBLARR_HOOK_OUTPUT_LIMIT",
        "hook_output_limit",
        _Whole(0, 1 << 20),
        "bytes of a script's stdout and of its stderr kept in the log",
    ),
    Setting(
        "SUBLARR_SUBSCRIPTION_CACHE_TTL",
        "subscription_cache_ttl",
        _SECONDS,
        "how long subscriptions are cached per event (changes made elsewhere)",
    ),
    Setting("SUBLARR_HOST", "host", _Text("address"), "address `sublarr serve` listens on; also `--host`"),
    Setting(
        "SUBLARR_PORT",
        "port",
        _Whole(0, 65535, "a TCP port"),
        "port `sublarr serve` listens on (REST API and Socket.IO); also `--port`",
    ),
    Setting(
        "SUBLARR_API_KEY",
        "api_key",
        _Text("text"),
        "the server's API key",
        default_doc="unset: generated on first start into `<data dir>/api_key`",
        secret=True,
    ),
    Setting(
        "SUBLARR_SERVER_THREADS",
        "server_threads",
        _Whole(1, 1000, "a number of threads"),
        "unused since the server is evented (gevent); kept so configurations that set it still load",
    ),
    Setting(
        "SUBLARR_MAX_CONNECTIONS",
        "max_connections",
        _Whole(10, 1_000_000, "a number of connections"),
        "connections `sublarr serve` holds at once (Socket.IO clients, HTTP requests, idle "
        "keep-alives); capped by the open-files limit; past it new ones are answered 503 and closed",
    ),
    Setting(
        "SUBLARR_MESSAGE_QUEUE",
        "message_queue",
        _MessageQueueUrl(),
        "Redis that carries Socket.IO events between processes (servers, `sublarr worker`, "
        "`sublarr emit`, host apps): every server's clients get every event; needs the `redis` extra",
        default_doc="unset: one server follows events other processes store in the database",
    ),
)

SETTINGS_BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}
KNOWN_KEYS: frozenset[str] = frozenset(SETTINGS_BY_KEY)
SECRET_KEYS: frozenset[str] = frozenset(s.key for s in SETTINGS if s.secret)


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/sublarr`` or ``~/.local/share/sublarr``."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "sublarr"


def default_config_file() -> Path:
    """``$XDG_CONFIG_HOME/sublarr/sublarr.toml`` or ``~/.config/sublarr/sublarr.toml``."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "sublarr" / CONFIG_FILE_NAME


@dataclass(frozen=True)
class Settings:
    """The effective configuration; build it with ``load_settings``. Fields are described in ``SETTINGS``."""

    config_file: Path | None = None
    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str | None = field(default=None, repr=False)  # may hold a password
    log_level: str | None = None
    load_plugins: tuple[str, ...] | None = None
    disable_plugins: tuple[str, ...] = ()
    trace_plugins: bool = False
    # Plugin settings as given (validated against what plugins declare once they are loaded:
    # sublarr.core.settings.plugins): the config file's [plugins.<name>] tables, and the
    # SUBLARR_PLUGIN_<NAME>_<KEY> values of the environment and the overrides (these win).
    # Marked PLUGIN_FIELD: the only fields without a row in SETTINGS.
    plugin_tables: Mapping[str, Mapping[str, Any]] = field(
        default_factory=dict, hash=False, repr=False, metadata=PLUGIN_FIELD
    )
    plugin_vars: Mapping[str, Any] = field(
        default_factory=dict, hash=False, repr=False, metadata=PLUGIN_FIELD
    )
    scoring_cache_ttl: float = 60.0
    hooks_dir: Path | None = None
    delivery_workers: int = 4
    delivery_poll_interval: float = 1.0
    delivery_lease: float = 60.0
    delivery_shutdown_timeout: float = 8.0
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
    max_connections: int = 10000
    message_queue: str | None = field(default=None, repr=False)  # may hold a password

    @property
    def effective_hooks_dir(self) -> Path:
        """The hooks directory, defaulting to ``<data_dir>/hooks``."""
        return self.hooks_dir if self.hooks_dir is not None else self.data_dir / "hooks"

    def effective_log_level(self, default: str = "warning") -> str:
        """The log level: the configured one, else ``default``."""
        return self.log_level or default

    def plugin_selection(self) -> tuple[Any, ...]:
        """What decides which plugins load and how they are called (equal: the same plugin manager)."""
        return (self.load_plugins, self.disable_plugins, self.trace_plugins)

    def as_dict(self) -> dict[str, Any]:
        """Every setting as ``SUBLARR_*`` key -> printable value (secrets NOT masked), in table order."""
        out: dict[str, Any] = {}
        for setting in SETTINGS:
            value = self.effective_hooks_dir if setting.field == "hooks_dir" else getattr(self, setting.field)
            out[setting.key] = _printable(value)
        return out


def _printable(value: Any) -> Any:
    if isinstance(value, tuple):
        return ",".join(value)
    if isinstance(value, Path):
        return str(value)
    return value


def read_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``SUBLARR_*`` settings in TOML file ``path``; keys may omit the prefix (``port``).

    Raises ``SettingsError`` for a missing or unreadable file, bad TOML, a table (other
    than the ``[plugins.<name>]`` ones, see ``read_config_sections``) or an unknown key.
    """
    return read_config_sections(path)[0]


def read_config_sections(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """TOML file ``path`` as ``(settings, plugin tables)``: ``read_config_file``'s dict, and
    ``{plugin name: {key: value}}`` from its ``[plugins.<name>]`` tables."""
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
    tables: dict[str, dict[str, Any]] = {}
    for name, value in raw.items():
        if name == PLUGIN_TABLES:
            tables = _plugin_tables(path, value)
            continue
        key = name.upper() if name.upper().startswith(PREFIX) else PREFIX + name.upper()
        setting = SETTINGS_BY_KEY.get(key)
        if setting is None or not setting.in_file:
            raise SettingsError(f"config file {str(path)!r}: unknown setting {name!r}")
        if isinstance(value, dict):
            raise SettingsError(f"config file {str(path)!r}: {name!r} must be a value, not a table")
        values[key] = value
    return values, tables


def _plugin_tables(path: Path, value: Any) -> dict[str, dict[str, Any]]:
    """The ``[plugins.<name>]`` tables: each a table of values (checked against the plugins later)."""
    if not isinstance(value, dict):
        raise SettingsError(f"config file {str(path)!r}: {PLUGIN_TABLES!r} must hold [plugins.<name>] tables")
    tables: dict[str, dict[str, Any]] = {}
    for plugin, table in value.items():
        if not isinstance(table, dict):
            raise SettingsError(
                f"config file {str(path)!r}: plugins.{plugin} must be a table ([plugins.{plugin}])"
            )
        for key, item in table.items():
            if isinstance(item, dict):
                raise SettingsError(f"plugin {plugin!r} setting {key!r}: must be a value, not a table")
        tables[plugin] = dict(table)
    return tables


def _config_file(given: Mapping[str, Any], env: Mapping[str, str]) -> Path | None:
    """The config file to read: the one named (it must exist), else the default one if it exists."""
    for source in (given, env):
        value = source.get("SUBLARR_CONFIG_FILE")
        if value not in (None, ""):
            return Path(os.path.abspath(Path(str(value)).expanduser()))
    default = default_config_file()
    return default if default.is_file() else None


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """The settings from, lowest first: defaults, the config file, the environment, ``overrides``.

    ``overrides`` holds ``SUBLARR_*`` keys (flags, a Flask ``app.config``; other keys are
    ignored, ``None`` values too). Without ``overrides`` this is ``current_settings()``:
    the settings an entry point put in force, or the file and environment read afresh.
    Raises ``SettingsError`` for a value that cannot be used.
    """
    if overrides is None:
        return current_settings()
    env = {k: v for k, v in os.environ.items() if k.startswith(PREFIX)}
    given = {k: v for k, v in overrides.items() if isinstance(k, str) and k.startswith(PREFIX)}
    given = {k: v for k, v in given.items() if v is not None}
    config_file = _config_file(given, env)
    from_file, plugin_tables = read_config_sections(config_file) if config_file is not None else ({}, {})
    source: dict[str, Any] = {**from_file, **env, **given}
    kwargs: dict[str, Any] = {
        "config_file": config_file,
        "plugin_tables": plugin_tables,
        "plugin_vars": {k: v for k, v in source.items() if k.startswith(PLUGIN_PREFIX)},
    }
    for setting in SETTINGS:
        if not setting.in_file or setting.key not in source:
            continue
        value = source[setting.key]
        if isinstance(value, str) and not value.strip() and not setting.keep_empty:
            continue
        parsed = setting.parse(setting.key, value)
        if isinstance(parsed, Path):
            # Relative paths: from a config file, against its folder; otherwise against the cwd.
            from_the_file = setting.key not in env and setting.key not in given
            base = config_file.parent if config_file is not None and from_the_file else None
            parsed = Path(os.path.abspath(parsed if base is None else base / parsed))
        kwargs[setting.field] = parsed
    return Settings(**kwargs)


# -- the settings in force -------------------------------------------------------------------------------

_in_force: list[Settings] = []
_in_force_lock = threading.Lock()


@contextmanager
def settings_in_force(settings: Settings) -> Iterator[Settings]:
    """Make ``settings`` what ``current_settings()`` returns until the block ends."""
    with _in_force_lock:
        _in_force.append(settings)
    try:
        yield settings
    finally:
        with _in_force_lock:
            for index in range(len(_in_force) - 1, -1, -1):
                if _in_force[index] is settings:
                    del _in_force[index]
                    break


def current_settings() -> Settings:
    """The settings in force: the current Flask app's (inside its app context), those the
    ``sublarr`` command put in force, else the config file and environment read afresh."""
    flask = sys.modules.get("flask")
    if flask is not None and flask.has_app_context():
        settings = flask.current_app.extensions.get(FLASK_SETTINGS_KEY)
        if isinstance(settings, Settings):
            return settings
    with _in_force_lock:
        if _in_force:
            return _in_force[-1]
    return load_settings({})


# -- docs ------------------------------------------------------------------------------------------------

TABLE_START = "<!-- settings-table: generated from sublarr.core.settings.SETTINGS by `make docs` -->"
TABLE_END = "<!-- /settings-table -->"


def _default_text(setting: Setting) -> str:
    if setting.default_doc is not None:
        return setting.default_doc
    value = _printable(next(f for f in fields(Settings) if f.name == setting.field).default)
    if value is None:
        return "unset"
    if value is False:
        return "off"
    if value == "":
        return "empty"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"


def settings_table() -> list[dict[str, str]]:
    """Every setting as ``{"key", "values", "default", "description"}`` (what the docs show)."""
    return [
        {
            "key": s.key,
            "values": s.parse.kind,
            "default": _default_text(s),
            "description": s.description,
        }
        for s in SETTINGS
    ]


def settings_markdown() -> str:
    """The settings table as Markdown (README.md holds it between ``TABLE_START`` and ``TABLE_END``)."""
    lines = ["| key | values | default | meaning |", "| --- | --- | --- | --- |"]
    for row in settings_table():
        lines.append(f"| `{row['key']}` | {row['values']} | {row['default']} | {row['description']} |")
    return "\n".join(lines)


def with_settings_table(text: str) -> str:
    """``text`` (README.md) with the part between the table markers replaced by ``settings_markdown()``."""
    head, start, rest = text.partition(TABLE_START)
    _, end, tail = rest.partition(TABLE_END)
    if not start or not end:
        raise SettingsError(f"the settings table markers are missing: {TABLE_START} ... {TABLE_END}")
    return f"{head}{TABLE_START}\n{settings_markdown()}\n{TABLE_END}{tail}"
