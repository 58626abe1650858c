"""Server configuration: SUBLARR_* env vars, the TOML config file, `sublarr config show` (masked)."""

from __future__ import annotations

import json
import socket

import pytest

from sublarr.core.settings import SettingsError, load_settings, read_config_file

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
