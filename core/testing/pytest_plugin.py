"""sublarr's pytest plugin (entry point ``pytest11``): fixtures for plugin and host tests.

Installed with sublarr, so any test suite gets them:

* ``plugin_manager`` - an isolated plugin manager with exactly sublarr's own built-in
  plugins loaded (whatever else is installed, whatever ``SUBLARR_LOAD_PLUGINS`` and
  ``SUBLARR_DISABLE_PLUGINS`` say), made current for the test and replaced by the previous
  one afterwards; scoring caches are empty when the test starts and when it ends.
* ``register_plugin`` - ``register_plugin(obj, name=None)`` registers a plugin object or
  module for one test.
* ``event_recorder`` - records every emitted event; ``assert_emitted`` and friends.
* ``sublarr_db`` - a fresh, migrated SQLite database file in ``tmp_path``, current for the
  test (``SUBLARR_DATABASE_URL`` points at it); yields its URL, disposed afterwards.
* ``sublarr_app`` - a Flask app with Socket.IO and the sublarr extension bound, on a
  temporary database.
* ``api_key`` / ``api_client`` - the app's API key; a Flask test client sending it.
* ``socketio_client`` - a Flask-SocketIO test client connected to ``sublarr_app`` (with the key).
* ``webhook_receiver`` - a real HTTP server on 127.0.0.1 that records requests, answers
  with scripted statuses and delays, and verifies webhook signatures (``.secret``).
* ``delivery_pool`` - ``delivery_pool(**settings)`` starts a hook/webhook worker pool on the
  current database, made current for the test and stopped afterwards.
* ``sublarr_cli`` - ``sublarr_cli("my-command", "arg", input=None, env=None)`` runs the
  ``sublarr`` command line with click's ``CliRunner`` over a new root group holding the
  built-in commands and those of the plugins of ``plugin_manager`` (``register_plugin``
  ones included); returns click's ``Result`` (``exit_code``, ``output``, ``stdout``,
  ``stderr``). Its data and config folders (``XDG_DATA_HOME``, ``XDG_CONFIG_HOME``) are in
  ``tmp_path``, never the user's. Nothing of it outlives the test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from sublarr.core.hookspecs import hookimpl
from sublarr.core.plugin_manager import BUILTIN_DISTRIBUTION

# The plugin settings of the fixtures: sublarr's built-ins by their distribution's name, so
# an installed third-party plugin, or a SUBLARR_*_PLUGINS variable of the shell running the
# tests, changes nothing.
ONLY_BUILTINS: dict[str, str] = {"SUBLARR_LOAD_PLUGINS": BUILTIN_DISTRIBUTION, "SUBLARR_DISABLE_PLUGINS": ""}


@dataclass(frozen=True)
class RecordedEvent:
    """One event seen by the ``event_recorder``."""

    name: str
    payload: dict[str, Any]
    event_id: str


class EventRecorder:
    """A plugin that records every event it sees; thread-safe."""

    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []
        self._cond = threading.Condition()

    @hookimpl(tryfirst=True)
    def on_event(self, event_name: str, payload: dict[str, Any], event_id: str) -> None:
        with self._cond:
            self.events.append(RecordedEvent(event_name, dict(payload), event_id))
            self._cond.notify_all()

    def names(self) -> list[str]:
        """Names of the recorded events, in order."""
        with self._cond:
            return [e.name for e in self.events]

    def of(self, name: str) -> list[RecordedEvent]:
        """The recorded events called ``name``."""
        with self._cond:
            return [e for e in self.events if e.name == name]

    def last(self, name: str | None = None) -> RecordedEvent:
        """The most recent event (called ``name``); AssertionError when there is none."""
        found = self.of(name) if name else list(self.events)
        assert found, f"no event {name or ''} was emitted; saw {self.names()}"
        return found[-1]

    def clear(self) -> None:
        """Forget what was recorded."""
        with self._cond:
            self.events.clear()

    def assert_emitted(self, name: str, **expected: Any) -> RecordedEvent:
        """Assert an event ``name`` whose payload holds ``expected`` was emitted; return it."""
        for event in reversed(self.of(name)):
            if all(event.payload.get(k) == v for k, v in expected.items()):
                return event
        raise AssertionError(
            f"no {name!r} event with {expected!r}; recorded: {[(e.name, e.payload) for e in self.events]}"
        )

    def assert_not_emitted(self, name: str) -> None:
        """Assert no event ``name`` was emitted."""
        seen = self.of(name)
        assert not seen, f"{name!r} was emitted {len(seen)} time(s): {[e.payload for e in seen]}"

    def wait_for(self, name: str, count: int = 1, timeout: float = 5.0) -> list[RecordedEvent]:
        """Wait until ``count`` events ``name`` were recorded (events from worker threads)."""
        with self._cond:
            ok = self._cond.wait_for(lambda: sum(e.name == name for e in self.events) >= count, timeout)
        assert ok, f"waited {timeout}s for {count} {name!r} event(s); saw {self.names()}"
        return self.of(name)


def _forget_scoring_state() -> None:
    from sublarr.core.scoring.cache import invalidate_scoring_cache, storage_status

    invalidate_scoring_cache()
    storage_status.reset()


@pytest.fixture
def plugin_manager() -> Iterator[Any]:
    """An isolated plugin manager with exactly sublarr's built-in plugins, current for this test."""
    from sublarr.core.plugin_manager import SublarrPluginManager, set_plugin_manager
    from sublarr.core.settings import load_settings

    pm = SublarrPluginManager(load_settings(ONLY_BUILTINS))
    previous = set_plugin_manager(pm)
    pm.load_entry_points()
    _forget_scoring_state()  # the built-ins' caches outlive plugin managers
    try:
        yield pm
    finally:
        set_plugin_manager(previous)
        _forget_scoring_state()


@pytest.fixture
def register_plugin(plugin_manager: Any) -> Iterator[Any]:
    """``register_plugin(plugin, name=None)``: register a plugin for the rest of the test."""
    registered: list[Any] = []

    def register(plugin: Any, name: str | None = None) -> Any:
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        plugin_manager.register(plugin, name=name)
        registered.append(plugin)
        return plugin

    yield register
    for plugin in registered:
        if plugin_manager.is_registered(plugin):
            plugin_manager.unregister(plugin)


@pytest.fixture
def event_recorder(register_plugin: Any) -> EventRecorder:
    """Records every event emitted during the test."""
    recorder = EventRecorder()
    register_plugin(recorder, name="event_recorder")
    return recorder


@contextmanager
def _temp_database(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, filename: str) -> Iterator[str]:
    """Make a new SQLite file in ``tmp_path`` the current database; dispose it afterwards."""
    from sublarr.core.db.engine import dispose_db, init_db

    url = f"sqlite:///{tmp_path / filename}"
    dispose_db()
    # Also for code that disposes and re-opens the database during the test.
    monkeypatch.setenv("SUBLARR_DATABASE_URL", url)
    init_db(url)
    try:
        yield url
    finally:
        dispose_db()


@pytest.fixture
def sublarr_db(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated SQLite database file in ``tmp_path``, current for this test; its URL."""
    with _temp_database(tmp_path, monkeypatch, "sublarr-test.db") as url:
        yield url


@pytest.fixture
def sublarr_app(plugin_manager: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A Flask app made by ``create_app`` with Socket.IO and sublarr bound, data and database in tmp.

    Its plugins are the ``plugin_manager`` fixture's (the app keeps that manager current).
    """
    from sublarr.core.web.app_factory import create_app

    data_dir = tmp_path / "sublarr-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    with _temp_database(data_dir, monkeypatch, "sublarr.db") as url:
        config = {"TESTING": True, "SUBLARR_DATA_DIR": str(data_dir), "SUBLARR_DATABASE_URL": url}
        app = create_app({**config, **ONLY_BUILTINS})
        assert app.extensions["sublarr"].plugin_manager is plugin_manager
        yield app


@pytest.fixture
def api_key(sublarr_app: Any) -> str:
    """The API key of ``sublarr_app``."""
    key: str = sublarr_app.extensions["sublarr.api_key"].value
    return key


@pytest.fixture
def api_client(sublarr_app: Any, api_key: str) -> Any:
    """A Flask test client of ``sublarr_app`` that sends the API key with every request."""
    client = sublarr_app.test_client()
    client.environ_base["HTTP_X_API_KEY"] = api_key
    return client


@pytest.fixture
def socketio_client(sublarr_app: Any, api_key: str) -> Iterator[Any]:
    """A Flask-SocketIO test client connected to ``sublarr_app`` with the API key."""
    client = sublarr_app.extensions["socketio"].test_client(sublarr_app, auth={"apikey": api_key})
    yield client
    if client.is_connected():
        client.disconnect()


@pytest.fixture
def webhook_receiver() -> Iterator[Any]:
    """A running ``WebhookReceiver`` on 127.0.0.1 (``.url``, ``.script()``, ``.wait_for()``)."""
    from sublarr.core.testing.receiver import WebhookReceiver

    receiver = WebhookReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def delivery_pool() -> Iterator[Any]:
    """``delivery_pool(**overrides)``: start a ``WorkerPool`` (settings from ``SUBLARR_*`` keys).

    The pool is made current, and stopped (and the previous one restored) after the test.
    """
    from sublarr.core.delivery.worker_pool import WorkerPool, set_current_pool
    from sublarr.core.settings import load_settings

    started: list[tuple[Any, Any]] = []

    def start(**overrides: Any) -> Any:
        pool = WorkerPool(load_settings(overrides))
        previous = set_current_pool(pool)
        pool.start()
        started.append((pool, previous))
        return pool

    yield start
    for pool, previous in reversed(started):
        pool.stop(timeout=5)
        set_current_pool(previous)


class SublarrCli:
    """Runs ``sublarr`` commands in-process; each run gets a new root group (``build_cli``)."""

    def __init__(self, plugin_manager: Any) -> None:
        self.plugin_manager = plugin_manager

    def group(self) -> Any:
        """A new root group with the built-in commands and the plugin manager's plugins' commands."""
        from sublarr.core.cli.main import build_cli

        return build_cli(self.plugin_manager)

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> Any:  # noqa: A002
        """Run ``sublarr ARGS...``; click's ``Result`` (exceptions are caught, as the real CLI does)."""
        from click.testing import CliRunner

        return CliRunner().invoke(self.group(), list(args), input=input, env=env, prog_name="sublarr")


@pytest.fixture
def sublarr_cli(plugin_manager: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> SublarrCli:
    """``sublarr_cli(*args, input=None, env=None)``: run the command line with the test's plugins.

    For the whole test the default data and config folders are in ``tmp_path``: the user's
    database and ``sublarr.toml`` are never read or written.
    """
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        folder = tmp_path / f"sublarr-cli-{name.lower()}"
        folder.mkdir(exist_ok=True)
        monkeypatch.setenv(name, str(folder))
    return SublarrCli(plugin_manager)
