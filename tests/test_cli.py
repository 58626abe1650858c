"""The `sublarr` command line, run as a user runs it."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner

from sublarr.core import EVENT_CATALOG, hookimpl
from sublarr.core.cli.main import build_cli

from conftest import run_sublarr


def test_events_prints_the_catalog():
    out = run_sublarr("events")
    assert out.returncode == 0, out.stderr
    assert "Event catalog v2: " in out.stdout
    for name in EVENT_CATALOG:
        assert name in out.stdout


def test_events_json_is_the_catalog():
    out = run_sublarr("events", "--json")
    data = json.loads(out.stdout)
    assert data["version"] == 2
    assert [e["name"] for e in data["events"]][:14] == list(EVENT_CATALOG)[:14]
    assert all("signal" not in e for e in data["events"])


def test_plugins_all_lists_builtins():
    out = run_sublarr("plugins", "--all", "--json")
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert rows["socketio_bridge"]["builtin"] is True
    assert rows["socketio_bridge"]["hooks"] == ["init_app", "on_event"]


def test_version():
    out = run_sublarr("--version")
    assert out.returncode == 0 and out.stdout.startswith("sublarr, version ")


def test_emit_fires_an_event(event_recorder):
    result = CliRunner().invoke(
        build_cli(), ["emit", "subtitle_downloaded", "title=Dark", "season=1", "language=de"]
    )
    assert result.exit_code == 0, result.output
    event = event_recorder.assert_emitted("subtitle_downloaded", title="Dark", season=1, language="de")
    assert result.output.strip() == event.event_id


def test_emit_with_json_data(event_recorder):
    result = CliRunner().invoke(build_cli(), ["emit", "batch_complete", "--data", '{"total": 4}'])
    assert result.exit_code == 0, result.output
    event_recorder.assert_emitted("batch_complete", total=4)


def test_emit_bad_input_gets_a_clear_error(event_recorder):
    runner = CliRunner()
    unknown = runner.invoke(build_cli(), ["emit", "no_such_event"])
    assert unknown.exit_code == 1 and "unknown event 'no_such_event'" in unknown.output
    secret = runner.invoke(build_cli(), ["emit", "batch_complete", "api_key=x"])
    assert secret.exit_code == 1 and "key 'api_key'" in secret.output
    absolute = runner.invoke(build_cli(), ["emit", "subtitle_downloaded", "relative_path=/tv/x.srt"])
    assert absolute.exit_code == 1 and "absolute filesystem paths" in absolute.output
    pair = runner.invoke(build_cli(), ["emit", "batch_complete", "total"])
    assert pair.exit_code == 2 and "is not KEY=VALUE" in pair.output
    data = runner.invoke(build_cli(), ["emit", "batch_complete", "--data", "[1]"])
    assert data.exit_code == 2 and "must be a JSON object" in data.output
    assert event_recorder.events == []


def test_plugins_add_commands(register_plugin):
    import click

    class Commands:
        @hookimpl
        def register_commands(self, cli):
            @cli.command("test-greet")
            def greet():
                click.echo("greetings")

    register_plugin(Commands(), name="commands")
    group = build_cli()
    try:
        result = CliRunner().invoke(group, ["test-greet"])
        assert result.output == "greetings\n"
    finally:
        group.commands.pop("test-greet", None)


# -- one configuration: the global options reach every command ------------------------------------------


def _stored_weights(db_file) -> dict[str, int]:
    with sqlite3.connect(db_file) as db:
        rows = db.execute("SELECT weight_key, weight_value FROM scoring_weights WHERE score_type = 'episode'")
        return dict(rows.fetchall())


def test_global_config_and_data_dir_reach_every_command(tmp_path):
    hooks = tmp_path / "my-hooks"
    hooks.mkdir()
    script = hooks / "notify.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    config = tmp_path / "sublarr.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\nhooks_dir = "{hooks}"\n')

    out = run_sublarr("--config", str(config), "weights", "set", "hash=111")
    assert out.returncode == 0, out.stderr
    assert _stored_weights(tmp_path / "data" / "sublarr.db") == {"hash": 111}
    # The hooks dir of the config file is the one the script is checked against.
    out = run_sublarr("--config", str(config), "hooks", "add", "n", "batch_complete", "notify.sh")
    assert out.returncode == 0, out.stderr
    out = run_sublarr("--config", str(config), "hooks", "list", "--json")
    assert [h["name"] for h in json.loads(out.stdout)] == ["n"]

    # --data-dir wins over the file: another database, with the default weights.
    out = run_sublarr(
        "--config", str(config), "--data-dir", str(tmp_path / "other"), "weights", "show", "--json"
    )
    assert out.returncode == 0, out.stderr
    hash_row = next(w for w in json.loads(out.stdout)["episode"] if w["key"] == "hash")
    assert hash_row["value"] == 359
    assert (tmp_path / "other" / "sublarr.db").is_file()
    assert _stored_weights(tmp_path / "data" / "sublarr.db") == {"hash": 111}


def test_the_default_config_file_makes_commands_without_flags_agree(tmp_path):
    config_home = tmp_path / "xdg-config"
    (config_home / "sublarr").mkdir(parents=True)
    (config_home / "sublarr" / "sublarr.toml").write_text('data_dir = "data"\n')  # relative: to the file
    env = {"XDG_CONFIG_HOME": str(config_home)}
    assert run_sublarr("weights", "set", "hash=222", env=env).returncode == 0
    assert _stored_weights(config_home / "sublarr" / "data" / "sublarr.db") == {"hash": 222}
    shown = json.loads(run_sublarr("config", "show", "--json", env=env).stdout)
    assert shown["SUBLARR_CONFIG_FILE"] == str(config_home / "sublarr" / "sublarr.toml")
    assert shown["SUBLARR_DATA_DIR"] == str(config_home / "sublarr" / "data")


def test_commands_get_the_one_settings_object_and_it_does_not_outlive_them(tmp_path, register_plugin):
    import click

    from sublarr.core.cli import get_settings
    from sublarr.core.cli.main import cli
    from sublarr.core.settings import current_settings

    seen = []

    class Commands:
        @hookimpl
        def register_commands(self, cli):
            @cli.command("test-settings")
            def show():
                seen.append((get_settings(), current_settings()))
                click.echo(get_settings().data_dir)

    register_plugin(Commands(), name="commands")
    try:
        result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "d"), "test-settings"])
    finally:
        cli.commands.pop("test-settings", None)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(tmp_path / "d")
    ((settings, in_force),) = seen
    assert in_force is settings
    assert current_settings() is not settings and current_settings().data_dir != tmp_path / "d"


# -- one error handler ------------------------------------------------------------------------------------

STORAGE_COMMANDS = [
    ("hooks", "list"),
    ("webhooks", "list"),
    ("logs",),
    ("weights", "show"),
    ("score", "--matches", "hash"),
    ("emit", "batch_complete", "total=1"),
    ("serve", "--port", "0"),
]


def _unusable_data_dirs(tmp_path) -> dict[str, str]:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory\n")
    dirs = {"a file": str(a_file), "a path under a file": str(a_file / "data")}
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        dirs["a directory without write permission"] = str(locked / "data")
    return dirs


@pytest.mark.parametrize("command", STORAGE_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_an_unusable_data_dir_is_one_error_line_and_exit_1(tmp_path, command):
    for what, data_dir in _unusable_data_dirs(tmp_path).items():
        for how in ("env", "flag"):
            if how == "env":
                out = run_sublarr(*command, env={"SUBLARR_DATA_DIR": data_dir}, timeout=30)
            else:
                out = run_sublarr("--data-dir", data_dir, *command, timeout=30)
            context = f"{what} via {how}: {out.stderr}"
            assert out.returncode == 1, context
            assert out.stderr.startswith("Error: cannot open the database "), context
            assert out.stderr.count("\n") == 1, context
            assert "Traceback" not in out.stderr + out.stdout, context
            assert out.stdout == "", context


def test_an_unreadable_database_file_is_an_error_too(tmp_path):
    (tmp_path / "sublarr.db").write_text("this is not SQLite\n" * 100)
    out = run_sublarr("--data-dir", str(tmp_path), "weights", "show")
    assert out.returncode == 1
    assert out.stderr.startswith("Error: cannot open the database") and "not a database" in out.stderr
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "sublarr.db").mkdir()
    out = run_sublarr("--data-dir", str(tmp_path / "dir"), "logs")
    assert out.returncode == 1 and "is a directory, not a database file" in out.stderr


def test_an_empty_database_is_fine(tmp_path):
    out = run_sublarr("--data-dir", str(tmp_path), "score", "--matches", "hash")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "359" and out.stderr == ""


def test_bad_settings_are_one_error_line(tmp_path):
    out = run_sublarr("events", env={"SUBLARR_LOG_LEVEL": "loud"})
    assert out.returncode == 1
    assert (
        out.stderr
        == "Error: SUBLARR_LOG_LEVEL: expected one of debug, info, warning, error, critical, got 'loud'\n"
    )
    out = run_sublarr("--config", str(tmp_path / "missing.toml"), "weights", "show")
    assert out.returncode == 1 and "does not exist" in out.stderr and "Traceback" not in out.stderr


def test_an_unexpected_error_is_one_line_and_its_traceback_is_logged_at_debug(register_plugin):
    import click  # noqa: F401 - the plugin below uses it

    from sublarr.core.cli.main import cli

    class Broken:
        @hookimpl
        def register_commands(self, cli):
            @cli.command("test-broken")
            def broken():
                raise RuntimeError("boom\nforged line")

    register_plugin(Broken(), name="broken")
    try:
        plain = CliRunner().invoke(cli, ["test-broken"])
        debug = CliRunner().invoke(cli, ["--log-level", "debug", "test-broken"])
    finally:
        cli.commands.pop("test-broken", None)
    assert plain.exit_code == 1
    expected = "Error: unexpected RuntimeError: boom\\nforged line (--log-level debug shows where)\n"
    assert plain.stderr == expected
    assert "Traceback" not in plain.output
    assert debug.exit_code == 1
    assert "DEBUG sublarr.core.cli.main: test-broken failed" in debug.stderr
    assert "    Traceback (most recent call last):" in debug.stderr  # indented under its record
    assert "\nforged line" not in debug.stderr


# -- logging ------------------------------------------------------------------------------------------------

LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: "
)


def test_log_level_option_and_setting(tmp_path):
    quiet = run_sublarr("--data-dir", str(tmp_path), "weights", "show")
    assert quiet.returncode == 0 and quiet.stderr == ""
    for out in (
        run_sublarr("--log-level", "info", "--data-dir", str(tmp_path), "weights", "show"),
        run_sublarr("--data-dir", str(tmp_path), "weights", "show", env={"SUBLARR_LOG_LEVEL": "INFO"}),
    ):
        assert out.returncode == 0, out.stderr
        lines = out.stderr.splitlines()
        assert lines and all(LOG_LINE.match(line) for line in lines), lines
        assert any(" INFO sublarr.core.db.engine: database sqlite:///" in line for line in lines)


def test_the_log_format_escapes_control_characters():
    import logging

    from sublarr.core.settings.log_format import LogFormatter

    record = logging.LogRecord(
        "sublarr.test", logging.INFO, __file__, 1, "sonarr webhook %s", ("Test\n2099-01-01T00:00:00+0000 "
        "ERROR sublarr: forged\r\x1b[31m\u2028",), None,
    )  # fmt: skip
    line = LogFormatter().format(record)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line and "\u2028" not in line
    assert line.endswith(
        "sonarr webhook Test\\n2099-01-01T00:00:00+0000 ERROR sublarr: forged\\r\\x1b[31m\\u2028"
    )
    assert LOG_LINE.match(line)


# -- python -m sublarr ----------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["sublarr", "sublarr.core"])
def test_python_dash_m(module, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", module, "--data-dir", str(tmp_path), "weights", "show", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert "episode" in json.loads(out.stdout)
    assert (tmp_path / "sublarr.db").is_file()


def test_python_dash_m_sublarr_from_a_non_editable_install(tmp_path, installed_site):
    target = installed_site
    assert (target / "sublarr" / "__main__.py").is_file()
    assert not (target / "sublarr" / "__init__.py").exists()  # still a namespace package
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = "import sublarr.core.cli as c; print(c.__file__)"
    where = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert where.stdout.startswith(str(target)), where.stderr
    out = subprocess.run(
        [sys.executable, "-m", "sublarr", "config", "keys", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "SUBLARR_DATA_DIR" in [row["key"] for row in json.loads(out.stdout)]


def test_secrets_are_not_logged_even_at_debug_and_on_failure():
    key = "0123456789abcdef" * 2
    env = {
        "SUBLARR_API_KEY": key,
        "SUBLARR_DATABASE_URL": "postgresql+psycopg://sub:hunter2@127.0.0.1:1/sublarr",
    }
    out = run_sublarr("--log-level", "debug", "weights", "show", env=env)
    assert out.returncode == 1
    assert out.stderr.splitlines()[-1].startswith(
        "Error: cannot open the database postgresql+psycopg://sub:***@"
    )
    assert "hunter2" not in out.stderr + out.stdout and key not in out.stderr + out.stdout
    shown = run_sublarr("--log-level", "debug", "config", "show", env=env)
    assert shown.returncode == 0
    assert "hunter2" not in shown.stderr + shown.stdout and key not in shown.stderr + shown.stdout
