"""Server configuration: SUBLARR_* env vars, the TOML config file, `sublarr config show` (masked)."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from dataclasses import fields
from pathlib import Path

import pytest
from flask import Flask
from flask_socketio import SocketIO

from sublarr.core import StorageError, Sublarr, emit_event, get_plugin_manager
from sublarr.core.settings import (
    KNOWN_KEYS,
    SETTINGS,
    Settings,
    SettingsError,
    current_settings,
    default_config_file,
    load_settings,
    read_config_file,
    settings_markdown,
)
from sublarr.core.testing import set_plugin_manager
from sublarr.core.testing.pytest_plugin import ONLY_BUILTINS
from sublarr.core.web.app_factory import create_app

from conftest import run_sublarr


def test_config_file_keys_with_or_without_prefix(tmp_path):
    path = tmp_path / "sublarr.toml"
    path.write_text('port = 9000\nSUBLARR_HOST = "0.0.0.0"\nserver_threads = 8\n')
    assert read_config_file(path) == {
        "SUBLARR_PORT": 9000,
        "SUBLARR_HOST": "0.0.0.0",
        "SUBLARR_SERVER_THREADS": 8,
    }


def test_precedence_file_then_env_then_overrides(tmp_path, monkeypatch):
    path = tmp_path / "sublarr.toml"
    path.write_text('port = 9000\nhost = "10.1.1.1"\ndata_dir = "/srv/sublarr"\n')
    monkeypatch.setenv("SUBLARR_CONFIG_FILE", str(path))
    monkeypatch.setenv("SUBLARR_PORT", "9100")
    settings = load_settings({"SUBLARR_HOST": "127.0.0.2"})
    assert (settings.port, settings.host, str(settings.data_dir)) == (9100, "127.0.0.2", "/srv/sublarr")
    assert settings.config_file == path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port = ", "not valid TOML"),
        ("colour = 'blue'", "unknown setting 'colour'"),
        ("[server]\nport = 1", "unknown setting 'server'"),
        ("[port]\nvalue = 1", "not a table"),
        ("port = 70000", "0..65535"),
        ("server_threads = 0", "1..1000"),
    ],
)
def test_bad_config_files_are_refused(tmp_path, monkeypatch, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    monkeypatch.setenv("SUBLARR_CONFIG_FILE", str(path))
    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_missing_config_file(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings({"SUBLARR_CONFIG_FILE": str(tmp_path / "nope.toml")})


def test_config_show_masks_secrets(tmp_path):
    path = tmp_path / "sublarr.toml"
    path.write_text('port = 9000\napi_key = "0123456789abcdef0123456789abcdef"\n')
    env = {"SUBLARR_DATABASE_URL": "postgresql+psycopg://sub:hunter2@db/sublarr", "SUBLARR_HOST": "0.0.0.0"}
    result = run_sublarr("config", "show", "--config", str(path), "--json", env=env)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["SUBLARR_PORT"] == 9000 and shown["SUBLARR_HOST"] == "0.0.0.0"
    assert shown["SUBLARR_API_KEY"] == "********cdef"
    assert "hunter2" not in result.stdout and "0123456789abcdef0123" not in result.stdout
    assert shown["SUBLARR_DATABASE_URL"] == "postgresql+psycopg://sub:***@db/sublarr"
    assert shown["SUBLARR_CONFIG_FILE"] == str(path)

    table = run_sublarr("config", "show", env={"SUBLARR_DATA_DIR": str(tmp_path / "d")})
    assert table.returncode == 0
    assert f"(generated; kept in {tmp_path / 'd' / 'api_key'})" in table.stdout
    assert "SUBLARR_PORT" in table.stdout and "8767" in table.stdout


def test_serve_refuses_a_bad_config_before_starting(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("colour = 'blue'\n")
    result = run_sublarr("serve", "--config", str(path), "--data-dir", str(tmp_path / "d"), timeout=30)
    assert result.returncode == 1
    assert "unknown setting 'colour'" in result.stderr
    assert not (tmp_path / "d").exists()


def test_serve_help_names_the_options():
    result = run_sublarr("serve", "--help")
    assert result.returncode == 0
    for option in ("--host", "--port", "--data-dir", "--config"):
        assert option in result.stdout


def test_serve_says_at_once_when_the_port_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_sublarr("serve", "--port", str(port), "--data-dir", str(tmp_path / "d"), timeout=30)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "already running" in result.stderr


# -- the settings table is the one source ----------------------------------------------------------------


def test_the_settings_table_drives_the_settings_object():
    table_fields = [f.name for f in fields(Settings) if not f.metadata.get("plugin_settings")]
    assert table_fields == [s.field for s in SETTINGS]
    assert {f.name for f in fields(Settings)} - set(table_fields) == {"plugin_tables", "plugin_vars"}
    assert list(Settings().as_dict()) == [s.key for s in SETTINGS] and set(Settings().as_dict()) == KNOWN_KEYS
    defaults = Settings()
    for setting in SETTINGS:  # every default, written as text, parses back to itself
        value = getattr(defaults, setting.field)
        if value is None or setting.field == "data_dir":
            continue
        shown = ",".join(value) if isinstance(value, tuple) else str(value)
        assert setting.parse(setting.key, shown) == value, setting.key


def test_every_setting_is_read_from_env_file_and_overrides(tmp_path, monkeypatch):
    path = tmp_path / "sublarr.toml"
    path.write_text("delivery_workers = 7\nsubscription_cache_ttl = 2.5\nlog_level = 'debug'\n")
    assert load_settings({"SUBLARR_CONFIG_FILE": str(path)}).delivery_workers == 7
    monkeypatch.setenv("SUBLARR_DELIVERY_WORKERS", "9")
    monkeypatch.setenv("SUBLARR_CONFIG_FILE", str(path))
    settings = load_settings({"SUBLARR_SUBSCRIPTION_CACHE_TTL": "0.5", "FLASK_KEY": "ignored"})
    assert (settings.delivery_workers, settings.subscription_cache_ttl, settings.log_level) == (
        9,
        0.5,
        "debug",
    )
    with pytest.raises(SettingsError, match="SUBLARR_DELIVERY_WORKERS: expected a whole number 1..64"):
        load_settings({"SUBLARR_DELIVERY_WORKERS": "0"})


def test_relative_paths_in_a_config_file_are_relative_to_the_file(tmp_path, monkeypatch):
    (tmp_path / "etc").mkdir()
    path = tmp_path / "etc" / "sublarr.toml"
    path.write_text('data_dir = "../var/sublarr"\nhooks_dir = "hooks"\n')
    monkeypatch.chdir(tmp_path / "etc")
    settings = load_settings({"SUBLARR_CONFIG_FILE": "sublarr.toml"})
    assert settings.config_file == path
    assert settings.data_dir == tmp_path / "var" / "sublarr"
    assert settings.hooks_dir == tmp_path / "etc" / "hooks"
    monkeypatch.setenv("SUBLARR_DATA_DIR", "here")  # not from the file: against the cwd
    assert load_settings({"SUBLARR_CONFIG_FILE": str(path)}).data_dir == tmp_path / "etc" / "here"


def test_the_default_config_file(tmp_path, monkeypatch):
    default = Path(os.environ["XDG_CONFIG_HOME"]) / "sublarr" / "sublarr.toml"
    assert default_config_file() == default
    assert load_settings({}).config_file is None  # absent: nothing read
    default.parent.mkdir(parents=True)
    default.write_text("port = 9123\n")
    assert (load_settings({}).config_file, load_settings({}).port) == (default, 9123)
    other = tmp_path / "other.toml"
    other.write_text("port = 9456\n")
    monkeypatch.setenv("SUBLARR_CONFIG_FILE", str(other))  # a named file replaces it
    assert load_settings({}).port == 9456


def test_flags_win_over_env_over_file_over_defaults(tmp_path):
    path = tmp_path / "sublarr.toml"
    path.write_text(f'data_dir = "{tmp_path / "from-file"}"\nport = 9000\nhost = "10.0.0.1"\n')
    env = {"SUBLARR_DATA_DIR": str(tmp_path / "from-env"), "SUBLARR_HOST": "10.0.0.2"}
    shown = json.loads(run_sublarr("--config", str(path), "config", "show", "--json", env=env).stdout)
    assert shown["SUBLARR_DATA_DIR"] == str(tmp_path / "from-env")
    assert (shown["SUBLARR_PORT"], shown["SUBLARR_HOST"]) == (9000, "10.0.0.2")
    assert shown["SUBLARR_SERVER_THREADS"] == 32  # default
    flagged = run_sublarr(
        "--config", str(path), "--data-dir", str(tmp_path / "from-flag"), "config", "show", "--json", env=env
    )
    assert json.loads(flagged.stdout)["SUBLARR_DATA_DIR"] == str(tmp_path / "from-flag")
    # `config show --config` (kept from before) wins over the global option.
    other = tmp_path / "other.toml"
    other.write_text("port = 9001\n")
    both = run_sublarr("--config", str(path), "config", "show", "--config", str(other), "--json")
    assert json.loads(both.stdout)["SUBLARR_PORT"] == 9001


def test_config_keys_lists_every_setting():
    out = run_sublarr("config", "keys")
    assert out.returncode == 0, out.stderr
    for setting in SETTINGS:
        assert setting.key in out.stdout
    markdown = run_sublarr("config", "keys", "--markdown")
    assert markdown.stdout.strip() == settings_markdown()


# -- the Flask extension: app.config SUBLARR_* keys over the environment --------------------------------


def _host_app(**config):
    app = Flask("host")
    app.config.update(config)
    return app, SocketIO(app, async_mode="threading")


def test_flask_extension_opens_the_database_app_config_names(tmp_path, monkeypatch):
    from sublarr.core.db.scoring import set_scoring_weights

    monkeypatch.setenv("SUBLARR_DATABASE_URL", f"sqlite:///{tmp_path / 'from-env.db'}")
    monkeypatch.setenv("SUBLARR_DELIVERY_WORKERS", "3")
    app, socketio = _host_app(SUBLARR_DATABASE_URL=f"sqlite:///{tmp_path / 'from-config.db'}")
    Sublarr(app, socketio)
    settings = app.extensions["sublarr.settings"]
    assert settings.delivery_workers == 3  # what app.config does not say comes from the environment
    set_scoring_weights("episode", {"hash": 111})
    with sqlite3.connect(tmp_path / "from-config.db") as db:
        assert db.execute("SELECT weight_key, weight_value FROM scoring_weights").fetchall() == [
            ("hash", 111)
        ]
    assert not (tmp_path / "from-env.db").exists()
    with app.app_context():
        assert current_settings() is settings
    assert current_settings() is not settings  # outside the app: the environment


def test_flask_extension_loads_only_the_plugins_app_config_allows(tmp_path):
    app, socketio = _host_app(
        SUBLARR_DISABLE_PLUGINS="socketio_bridge", SUBLARR_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}"
    )
    Sublarr(app, socketio)
    status = {row["name"]: row["status"] for row in get_plugin_manager().list_plugins()}
    assert status["socketio_bridge"] == "disabled" and status["webhooks"] == "loaded"
    client = socketio.test_client(app)
    emit_event("batch_complete", {"total": 1})
    assert client.get_received() == []


def test_flask_extension_replaces_a_plugin_manager_loaded_otherwise(tmp_path, plugin_manager):
    assert plugin_manager.has_plugin("socketio_bridge")
    app, socketio = _host_app(
        SUBLARR_DISABLE_PLUGINS="socketio_bridge", SUBLARR_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}"
    )
    Sublarr(app, socketio)
    assert get_plugin_manager() is not plugin_manager
    assert not get_plugin_manager().has_plugin("socketio_bridge")
    same, same_io = _host_app(SUBLARR_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", **ONLY_BUILTINS)
    current = set_plugin_manager(plugin_manager)
    Sublarr(same, same_io)  # same plugin settings: the current manager is kept
    assert get_plugin_manager() is plugin_manager
    assert current is not plugin_manager


def test_create_app_takes_plugins_and_database_from_its_config(tmp_path):
    app = create_app(
        {
            "SUBLARR_DATA_DIR": str(tmp_path / "data"),
            "SUBLARR_DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
            "SUBLARR_DISABLE_PLUGINS": "socketio_bridge,provider_modifiers",
            "SUBLARR_API_KEY": "k" * 32,
        }
    )
    client = app.test_client()
    plugins = client.get("/api/v1/plugins", headers={"X-Api-Key": "k" * 32}).get_json()
    rows = plugins["plugins"] if isinstance(plugins, dict) else plugins
    status = {row["name"]: row["status"] for row in rows}
    assert status["socketio_bridge"] == status["provider_modifiers"] == "disabled"
    answer = client.put(
        "/api/v1/scoring/weights", json={"episode": {"hash": 123}}, headers={"X-Api-Key": "k" * 32}
    )
    assert answer.status_code == 200, answer.get_json()
    with sqlite3.connect(tmp_path / "app.db") as db:
        assert db.execute("SELECT weight_value FROM scoring_weights").fetchall() == [(123,)]


def test_flask_extension_reports_bad_config_clearly(tmp_path):
    app, socketio = _host_app(SUBLARR_DELIVERY_WORKERS="many")
    with pytest.raises(SettingsError, match="SUBLARR_DELIVERY_WORKERS: expected a whole number"):
        Sublarr(app, socketio)
    (tmp_path / "file").write_text("")
    app, socketio = _host_app(SUBLARR_DATA_DIR=str(tmp_path / "file"))
    with pytest.raises(StorageError, match="is a file, not a directory"):
        Sublarr(app, socketio)
