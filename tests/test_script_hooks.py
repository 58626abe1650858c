"""Script hooks with real scripts, a real SQLite file and a real worker pool."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from sublarr.core import emit_event
from sublarr.core.db import hooks as store
from sublarr.core.delivery import ScriptRefusedError, add_hook, fire
from sublarr.core.settings import load_settings

from conftest import wait_logs


@pytest.fixture
def hooks_dir(delivery_env):
    """The hooks directory (SUBLARR_HOOKS_DIR) on a fresh database with the built-in plugins."""
    return delivery_env


def script(directory: Path, name: str, body: str, executable: bool = True) -> Path:
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755 if executable else 0o644)
    return path


def process_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


def test_script_gets_a_clean_environment_the_payload_and_stdin(
    hooks_dir, tmp_path, monkeypatch, delivery_pool
):
    monkeypatch.setenv("LEAKED_SECRET", "do-not-pass-me")
    out = tmp_path / "out"
    out.mkdir()
    script(
        hooks_dir, "dump.sh",
        f'env > "{out}/env"\ncat > "{out}/stdin"\npwd > "{out}/cwd"\nls -A > "{out}/ls"\ntouch left-behind\n',
    )  # fmt: skip
    add_hook("dump", "subtitle_downloaded", "dump.sh")
    delivery_pool()
    event_id = emit_event(
        "subtitle_downloaded",
        {"title": "Dark\nInjected=1\x00", "season": 1, "hearing_impaired": False, "language": "de"},
    )
    [log] = wait_logs(1)
    assert log["success"] and log["exit_code"] == 0 and log["hook_type"] == "script"

    env = dict(line.split("=", 1) for line in (out / "env").read_text().splitlines() if "=" in line)
    shell_own = {"PWD", "SHLVL", "_", "OLDPWD"}
    assert "LEAKED_SECRET" not in env and "SUBLARR_HOOKS_DIR" not in env
    assert {k for k in env if not k.startswith("SUBLARR_")} - shell_own == {"PATH", "HOME"}
    assert env["SUBLARR_EVENT"] == "subtitle_downloaded"
    assert env["SUBLARR_EVENT_ID"] == event_id
    assert env["SUBLARR_TITLE"] == "DarkInjected=1"  # newline and NUL stripped
    assert (env["SUBLARR_SEASON"], env["SUBLARR_HEARING_IMPAIRED"], env["SUBLARR_EPISODE"]) == (
        "1",
        "false",
        "",
    )
    data = json.loads(env["SUBLARR_EVENT_DATA"])
    assert data["title"] == "Dark\nInjected=1\x00" and data["language"] == "de"
    assert json.loads((out / "stdin").read_text()) == data
    cwd = Path((out / "cwd").read_text().strip())
    assert cwd.name.startswith("sublarr-hook-") and cwd.parent != hooks_dir
    assert (out / "ls").read_text() == ""  # empty when the script starts
    assert list(cwd.iterdir()) == []  # and emptied after it ran


def test_long_values_are_capped_in_the_environment(hooks_dir, tmp_path):
    out = tmp_path / "title"
    script(hooks_dir, "len.sh", f'printf %s "$SUBLARR_TITLE" > "{out}"\n')
    hook = add_hook("len", "subtitle_downloaded", "len.sh")
    from sublarr.core.delivery.script_runner import ENV_VALUE_LIMIT, build_environment

    env = build_environment("subtitle_downloaded", "x", {"title": "a" * 100_000})
    assert len(env["SUBLARR_TITLE"].encode()) == ENV_VALUE_LIMIT
    assert env["SUBLARR_TITLE"].startswith("a" * 1000) and "...[truncated" in env["SUBLARR_TITLE"]
    assert fire.test_hook(hook["id"]).success
    assert out.read_text() == "Sublarr Test"


def test_a_failing_script_is_logged_counted_and_reported(hooks_dir, delivery_pool, event_recorder):
    script(hooks_dir, "fail.sh", 'echo "out line"\necho "err line" >&2\nexit 3\n')
    hook = add_hook("fail", "translation_failed", "fail.sh")
    delivery_pool()
    emit_event("translation_failed", {"title": "Dark", "error": "quota"})
    [log] = wait_logs(1)
    assert (log["success"], log["exit_code"], log["status_code"]) == (False, 3, None)
    assert log["stdout"] == "out line\n" and log["stderr"] == "err line\n"
    assert "exited with code 3" in log["error"] and log["duration_ms"] > 0
    [executed] = event_recorder.wait_for("hook_executed")
    assert executed.payload["hook_id"] == hook["id"] and executed.payload["exit_code"] == 3
    assert executed.payload["success"] is False and executed.payload["event_name"] == "translation_failed"
    stored = store.get_hook_config(hook["id"])
    assert (stored["trigger_count"], stored["last_status"]) == (1, "failed")


def test_timeout_kills_the_script_and_the_child_it_forked(hooks_dir, tmp_path):
    pidfile = tmp_path / "child.pid"
    script(hooks_dir, "hang.sh", f'sleep 60 &\necho $! > "{pidfile}"\necho started\nsleep 60\n')
    hook = add_hook("hang", "subtitle_downloaded", "hang.sh", timeout_seconds=1)
    started = time.monotonic()
    result = fire.test_hook(hook["id"])
    elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 4
    assert not result.success and result.exit_code is None and "timed out after 1 s" in result.error
    assert result.stdout == "started\n"
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 3
    while not process_gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process_gone(child), f"the forked sleeper {child} survived the timeout"
    [log] = store.get_hook_logs(hook_id=hook["id"])
    assert not log["success"] and "timed out" in log["error"]


def test_children_left_behind_by_a_finished_script_are_killed(hooks_dir, tmp_path):
    pidfile = tmp_path / "child.pid"
    script(hooks_dir, "bg.sh", f'sleep 60 >/dev/null 2>&1 &\necho $! > "{pidfile}"\nexit 0\n')
    hook = add_hook("bg", "subtitle_downloaded", "bg.sh")
    started = time.monotonic()
    assert fire.test_hook(hook["id"]).success
    assert time.monotonic() - started < 3
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 3
    while not process_gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process_gone(child)


def test_output_is_captured_up_to_the_limit(hooks_dir, monkeypatch):
    monkeypatch.setenv("SUBLARR_HOOK_OUTPUT_LIMIT", "1000")
    script(hooks_dir, "loud.sh", "head -c 200000 /dev/zero | tr '\\0' x\necho done >&2\n")
    hook = add_hook("loud", "subtitle_downloaded", "loud.sh")
    result = fire.test_hook(hook["id"])
    assert result.success
    assert result.stdout.startswith("x" * 1000) and "199000 more bytes not kept" in result.stdout
    assert len(result.stdout) < 1100 and result.stderr == "done\n"


def test_scripts_outside_the_hooks_dir_are_refused_when_saved(hooks_dir, tmp_path):
    outside = script(tmp_path, "outside.sh", "exit 0\n")
    script(hooks_dir, "noexec.sh", "exit 0\n", executable=False)
    (hooks_dir / "link.sh").symlink_to(outside)
    (hooks_dir / "sub").mkdir()
    cases = {
        str(outside): "outside the hooks directory",
        "/bin/true": "outside the hooks directory",
        "../outside.sh": "outside the hooks directory",
        "sub/../../outside.sh": "outside the hooks directory",
        "link.sh": "outside the hooks directory",
        "noexec.sh": "not executable",
        "missing.sh": "does not exist",
        "sub": "not a regular file",
        ".": "outside the hooks directory",
        "": "empty",
        "~no-such-user-here/x.sh": "cannot be resolved",
        "a" * 5000: "cannot be resolved",
    }
    for path, message in cases.items():
        with pytest.raises(ScriptRefusedError, match=message):
            add_hook("bad", "subtitle_downloaded", path)
    assert store.get_hook_configs() == []


def test_scripts_are_checked_again_when_they_run(hooks_dir, tmp_path, delivery_pool):
    marker = tmp_path / "ran"
    outside = script(tmp_path, "outside.sh", f'touch "{marker}"\n')
    inside = script(hooks_dir, "ok.sh", "exit 0\n")
    hook = add_hook("swap", "subtitle_downloaded", "ok.sh")
    inside.unlink()
    inside.symlink_to(outside)  # swapped for a link out of the hooks dir after saving
    result = fire.test_hook(hook["id"])
    assert not result.success and "outside the hooks directory" in result.error
    delivery_pool()
    emit_event("subtitle_downloaded", {"title": "Dark"})
    logs = wait_logs(2)
    assert all(not log["success"] and "outside the hooks directory" in log["error"] for log in logs)
    assert not marker.exists()
    # A hook stored behind the pipeline's back (storage layer only) is refused the same way.
    raw = store.create_hook_config("raw", "subtitle_downloaded", "/bin/true")
    assert "outside the hooks directory" in fire.test_hook(raw["id"]).error


def test_hooks_on_hook_executed_never_loop(hooks_dir, tmp_path, delivery_pool, event_recorder):
    lines = tmp_path / "meta.log"
    script(hooks_dir, "a.sh", "exit 0\n")
    script(hooks_dir, "meta.sh", f'echo "$SUBLARR_HOOK_NAME $SUBLARR_SUCCESS" >> "{lines}"\n')
    add_hook("first", "subtitle_downloaded", "a.sh")
    add_hook("meta", "hook_executed", "meta.sh")
    pool = delivery_pool()
    emit_event("subtitle_downloaded", {"title": "Dark"})
    wait_logs(2)
    assert pool.wait_idle(5)
    time.sleep(0.3)  # anything a loop would add shows up by now
    assert lines.read_text() == "first true\n"
    assert len(store.get_hook_logs(limit=100)) == 2
    assert len(event_recorder.of("hook_executed")) == 1


def test_test_hook_runs_now_with_a_sample_payload_and_logs_it(hooks_dir, tmp_path):
    out = tmp_path / "test.json"
    script(hooks_dir, "t.sh", f'echo "$SUBLARR_EVENT" > "{out}.event"\ncat > "{out}"\necho hello\n')
    hook = add_hook("t", "upgrade_complete", "t.sh")
    result = fire.test_hook(hook["id"])
    assert result.success and result.event_name == "test" and result.stdout == "hello\n"
    assert (tmp_path / "test.json.event").read_text() == "test\n"
    sample = json.loads(out.read_text())
    assert set(sample) == {
        "media_type",
        "title",
        "series_title",
        "season",
        "episode",
        "year",
        "language",
        "old_score",
        "new_score",
        "provider_name",
        "relative_path",
    }
    [log] = store.get_hook_logs(hook_id=hook["id"])
    assert log["event_name"] == "test" and log["success"] and log["id"] == result.log_id
    assert store.get_hook_config(hook["id"])["trigger_count"] == 0  # a test is not a trigger
    from sublarr.core.errors import NotFoundError

    with pytest.raises(NotFoundError):
        fire.test_hook(9999)


def test_hooks_dir_setting_defaults_under_the_data_dir(tmp_path):
    settings = load_settings({"SUBLARR_DATA_DIR": str(tmp_path)})
    assert settings.effective_hooks_dir == tmp_path / "hooks"
    assert os.fspath(load_settings({"SUBLARR_HOOKS_DIR": "/srv/h"}).effective_hooks_dir) == "/srv/h"
