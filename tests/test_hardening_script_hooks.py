"""Script hooks under pressure (issue 9): large payloads, escaping children, swapped paths.

Real scripts, real processes (``setsid``, background sleepers), a real SQLite file, real
worker threads, and real ``renameat2(RENAME_EXCHANGE)`` swaps of a hooks-dir directory.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from sublarr.core import emit_event
from sublarr.core.db import hooks as store
from sublarr.core.delivery import ScriptRefusedError, add_hook, fire
from sublarr.core.delivery.script_runner import ENV_VALUE_LIMIT


@pytest.fixture
def hooks_dir(tmp_path, monkeypatch, sublarr_db, plugin_manager):
    directory = tmp_path / "hooks"
    directory.mkdir()
    monkeypatch.setenv("SUBLARR_HOOKS_DIR", str(directory))
    monkeypatch.setenv("SUBLARR_DELIVERY_POLL_INTERVAL", "0.2")
    return directory


@pytest.fixture
def leftovers():
    """Pids a test expects dead; whatever survived is killed afterwards, so nothing leaks."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def script(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def wait_until(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def read_pid(path: Path, leftovers: list[int]) -> int:
    assert wait_until(lambda: path.exists() and path.read_text().strip()), f"{path} never written"
    pid = int(path.read_text())
    leftovers.append(pid)
    return pid


def escaping_child(pidfile: Path, quiet: bool = True) -> str:
    """Shell that starts a sleeper in a session of its own (out of the script's group)."""
    redirect = " </dev/null >/dev/null 2>&1" if quiet else ""
    record = f'echo $$ > "{pidfile}.tmp"; mv "{pidfile}.tmp" "{pidfile}"'
    return f"setsid sh -c '{record}; exec sleep 300'{redirect} &\n"


# -- 2. large payloads ----------------------------------------------------------------------


def test_a_200_kb_title_runs_every_hook_with_the_whole_payload_on_stdin(hooks_dir, tmp_path, delivery_pool):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("one", "two"):
        script(
            hooks_dir,
            f"{name}.sh",
            f'cat > "{out}/{name}.stdin"\n'
            f'printf %s "$SUBLARR_TITLE" > "{out}/{name}.title"\n'
            f'printf %s "$SUBLARR_EVENT_DATA" > "{out}/{name}.data"\n'
            f'printf %s "$SUBLARR_LANGUAGE" > "{out}/{name}.language"\n',
        )
        add_hook(name, "subtitle_downloaded", f"{name}.sh")
    title = "é" * 100_000  # 200 kB of UTF-8
    delivery_pool()
    emit_event("subtitle_downloaded", {"title": title, "language": "de"})
    assert wait_until(lambda: len(store.get_hook_logs(limit=10)) == 2, 15)
    logs = store.get_hook_logs(limit=10)
    assert all(log["success"] for log in logs), [log["error"] for log in logs]
    for name in ("one", "two"):
        stdin = json.loads((out / f"{name}.stdin").read_text(encoding="utf-8"))
        assert stdin["title"] == title and stdin["language"] == "de"  # whole, never cut
        env_title = (out / f"{name}.title").read_bytes()
        assert len(env_title) == ENV_VALUE_LIMIT
        assert env_title.decode("utf-8").startswith("é" * 1000)  # cut on a character boundary
        assert b"...[truncated: 200000 bytes in all; the whole payload is on stdin]" in env_title
        assert len((out / f"{name}.data").read_bytes()) == ENV_VALUE_LIMIT
        assert (out / f"{name}.language").read_text() == "de"


def test_the_whole_payload_reaches_stdin_byte_for_byte(hooks_dir, tmp_path):
    from sublarr.core.delivery.script_runner import build_environment, resolve_script, run_script

    script(hooks_dir, "sum.sh", "sha256sum | cut -d' ' -f1\n")
    payload = {"title": "x" * 3_000_000, "list": list(range(1000))}
    data = json.dumps(payload).encode()
    result = run_script(
        resolve_script("sum.sh", hooks_dir),
        env=build_environment("e", "id", payload, data.decode()),
        stdin=data,
        timeout=20,
    )
    assert result.success, result.error
    assert result.stdout.strip() == hashlib.sha256(data).hexdigest()


def test_the_environment_stays_within_its_total_limit():
    from sublarr.core.delivery.script_runner import ENV_TOTAL_LIMIT, build_environment

    payload = {f"k{i}": "v" * 20_000 for i in range(20)}
    env = build_environment("e", "id", payload)
    keyed = {k: v for k, v in env.items() if k.startswith("SUBLARR_K")}
    assert 0 < len(keyed) < 20
    assert sum(len(k) + len(v.encode()) + 2 for k, v in keyed.items()) <= ENV_TOTAL_LIMIT
    assert all(len(v.encode()) <= ENV_VALUE_LIMIT for v in env.values())


# -- 3. every descendant dies with the run ----------------------------------------------------


def test_a_setsid_grandchild_dies_at_the_timeout(hooks_dir, tmp_path, leftovers):
    pidfile = tmp_path / "escaped.pid"
    script(hooks_dir, "hang.sh", escaping_child(pidfile) + "sleep 300\n")
    hook = add_hook("hang", "subtitle_downloaded", "hang.sh", timeout_seconds=1)
    result = fire.test_hook(hook["id"])
    assert result.error.startswith("timed out after 1 s") and result.exit_code is None
    escaped = read_pid(pidfile, leftovers)
    assert wait_until(lambda: not alive(escaped), 3), f"the setsid grandchild {escaped} survived the timeout"


def test_a_setsid_grandchild_dies_when_the_script_exits(hooks_dir, tmp_path, leftovers):
    pidfile = tmp_path / "escaped.pid"
    script(
        hooks_dir,
        "bg.sh",
        escaping_child(pidfile) + f'while [ ! -e "{pidfile}" ]; do sleep 0.01; done\nexit 0\n',
    )
    hook = add_hook("bg", "subtitle_downloaded", "bg.sh")
    assert fire.test_hook(hook["id"]).success
    escaped = read_pid(pidfile, leftovers)
    assert wait_until(lambda: not alive(escaped), 3), f"the setsid grandchild {escaped} outlived the script"


def test_a_grandchild_holding_stdout_does_not_hold_the_run(hooks_dir, tmp_path, leftovers):
    pidfile = tmp_path / "holder.pid"
    script(
        hooks_dir,
        "hold.sh",
        escaping_child(pidfile, quiet=False)
        + f'while [ ! -e "{pidfile}" ]; do sleep 0.01; done\necho done\n',
    )
    hook = add_hook("hold", "subtitle_downloaded", "hold.sh", timeout_seconds=20)
    started = time.monotonic()
    result = fire.test_hook(hook["id"])
    assert time.monotonic() - started < 5, "the run waited for the grandchild's stdout"
    assert result.success and result.stdout == "done\n", result
    holder = read_pid(pidfile, leftovers)
    assert wait_until(lambda: not alive(holder), 3)


def test_a_run_kills_only_its_own_descendants(hooks_dir, tmp_path, leftovers):
    """Two runs at once in two threads: the one that ends first leaves the other's alone."""
    long_pid, short_pid = tmp_path / "long.pid", tmp_path / "short.pid"
    release = tmp_path / "release"
    script(
        hooks_dir,
        "long.sh",
        escaping_child(long_pid) + f'while [ ! -e "{release}" ]; do sleep 0.02; done\nexit 0\n',
    )
    script(
        hooks_dir,
        "short.sh",
        escaping_child(short_pid) + f'while [ ! -e "{short_pid}" ]; do sleep 0.01; done\n',
    )
    long_hook = add_hook("long", "subtitle_downloaded", "long.sh", timeout_seconds=30)
    short_hook = add_hook("short", "subtitle_downloaded", "short.sh")
    bystander = os.spawnlp(os.P_NOWAIT, "sleep", "sleep", "300")  # the server's own child
    leftovers.append(bystander)
    results: dict[str, object] = {}
    long_run = threading.Thread(target=lambda: results.update(long=fire.test_hook(long_hook["id"])))
    long_run.start()
    try:
        long_child = read_pid(long_pid, leftovers)
        short_run = threading.Thread(target=lambda: results.update(short=fire.test_hook(short_hook["id"])))
        short_run.start()
        short_run.join(10)
        assert results["short"].success
        short_child = read_pid(short_pid, leftovers)
        assert wait_until(lambda: not alive(short_child), 3)
        time.sleep(0.2)
        assert alive(long_child), "the short run killed a process of the long run"
        assert alive(bystander), "a script run killed a process that was not its own"
    finally:
        release.touch()
        long_run.join(10)
    assert results["long"].success
    assert wait_until(lambda: not alive(long_child), 3)
    assert alive(bystander)
    os.kill(bystander, signal.SIGKILL)
    os.waitpid(bystander, 0)


# -- 4. the script that runs is the one that was checked ---------------------------------------

RENAME_EXCHANGE = 2
AT_FDCWD = -100


def _renameat2():
    libc = ctypes.CDLL(None, use_errno=True)
    func = getattr(libc, "renameat2", None)
    if func is None:
        pytest.skip("renameat2 is not available in this C library")
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return func


def test_a_directory_swapped_for_a_link_out_never_runs_the_outside_script(hooks_dir, tmp_path):
    exchange = _renameat2()
    ran_outside = tmp_path / "ran-outside"
    script(hooks_dir, "d/x.sh", "exit 0\n")
    script(tmp_path / "outside", "d/x.sh", f'touch "{ran_outside}"\n')
    (hooks_dir / "swap").symlink_to(tmp_path / "outside" / "d")
    hook = add_hook("x", "subtitle_downloaded", "d/x.sh")
    a, b = os.fsencode(hooks_dir / "d"), os.fsencode(hooks_dir / "swap")
    assert exchange(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0, os.strerror(ctypes.get_errno())
    exchange(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)  # and back
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            exchange(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)

    swapper = threading.Thread(target=swap, daemon=True)
    swapper.start()
    errors: list[str] = []
    try:
        for _ in range(60):
            result = fire.test_hook(hook["id"])
            if not result.success:
                errors.append(result.error)
    finally:
        stop.set()
        swapper.join(5)
    assert not ran_outside.exists(), "a swapped directory let a script outside the hooks dir run"
    assert all(e.startswith("script ") for e in errors), errors  # refusals, nothing else


def test_a_hard_link_to_an_outside_file_is_refused_when_saved(hooks_dir, tmp_path):
    outside = script(tmp_path / "outside", "x.sh", "exit 0\n")
    os.link(outside, hooks_dir / "x.sh")
    with pytest.raises(ScriptRefusedError, match="2 hard links"):
        add_hook("x", "subtitle_downloaded", "x.sh")
    assert store.get_hook_configs() == []


def test_a_hard_link_put_in_place_after_saving_does_not_run(hooks_dir, tmp_path):
    ran_outside = tmp_path / "ran-outside"
    outside = script(tmp_path / "outside", "x.sh", f'touch "{ran_outside}"\n')
    script(hooks_dir, "x.sh", "exit 0\n")
    hook = add_hook("x", "subtitle_downloaded", "x.sh")
    (hooks_dir / "x.sh").unlink()
    os.link(outside, hooks_dir / "x.sh")
    result = fire.test_hook(hook["id"])
    assert not result.success and "2 hard links" in result.error
    assert not ran_outside.exists()


def test_the_opened_file_is_what_runs_and_its_path_is_given(hooks_dir, tmp_path):
    script(hooks_dir, "who.sh", 'echo "$SUBLARR_SCRIPT_PATH"\n')
    hook = add_hook("who", "subtitle_downloaded", "who.sh")
    result = fire.test_hook(hook["id"])
    assert result.success and result.stdout == f"{os.path.realpath(hooks_dir / 'who.sh')}\n"


# -- the helper processes that run scripts ------------------------------------------------------


def test_a_script_gets_no_descriptor_of_sublarr(hooks_dir):
    script(hooks_dir, "fds.sh", 'for fd in /proc/$$/fd/*; do readlink "$fd"; done\nexit 0\n')
    hook = add_hook("fds", "subtitle_downloaded", "fds.sh")
    result = fire.test_hook(hook["id"])
    assert result.success, result.error
    targets = result.stdout.split()
    assert not [t for t in targets if t.startswith("socket:")], targets
    assert os.path.realpath(hooks_dir / "fds.sh") in targets  # the script, opened by sublarr


def test_a_helper_that_died_is_replaced(hooks_dir):
    from sublarr.core.delivery import script_runner

    script(hooks_dir, "ok.sh", "echo ok\n")
    hook = add_hook("ok", "subtitle_downloaded", "ok.sh")
    assert fire.test_hook(hook["id"]).success
    for idle in list(script_runner._idle):
        idle.process.kill()
        idle.process.wait(5)
    assert fire.test_hook(hook["id"]).stdout == "ok\n"


def test_a_helper_killed_during_a_run_fails_that_run_only(hooks_dir, tmp_path, leftovers):
    from sublarr.core.delivery import script_runner

    started = tmp_path / "started"
    script(hooks_dir, "slow.sh", f'touch "{started}"\nsleep 30\n')
    script(hooks_dir, "ok.sh", "echo ok\n")
    slow = add_hook("slow", "subtitle_downloaded", "slow.sh", timeout_seconds=20)
    ok = add_hook("ok", "subtitle_downloaded", "ok.sh")
    script_runner.close_supervisors()
    helpers_before = set(_helper_pids())
    results: dict[str, object] = {}
    run = threading.Thread(target=lambda: results.update(slow=fire.test_hook(slow["id"])))
    run.start()
    assert wait_until(started.exists)
    [helper] = set(_helper_pids()) - helpers_before
    os.kill(helper, signal.SIGKILL)
    run.join(10)
    assert not results["slow"].success and "script runner" in results["slow"].error
    assert fire.test_hook(ok["id"]).stdout == "ok\n"


def _helper_pids() -> list[int]:
    me = str(os.getpid())
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
        except OSError:
            continue
        if b"script_supervisor.py" in cmdline and ppid == me:
            pids.append(int(entry.name))
    return pids


def test_close_supervisors_stops_the_idle_helpers(hooks_dir):
    from sublarr.core.delivery import script_runner

    script(hooks_dir, "ok.sh", "exit 0\n")
    hook = add_hook("ok", "subtitle_downloaded", "ok.sh")
    assert fire.test_hook(hook["id"]).success
    assert _helper_pids()
    script_runner.close_supervisors()
    assert wait_until(lambda: not _helper_pids(), 5)


def test_many_runs_at_once_all_succeed(hooks_dir):
    script(hooks_dir, "echo.sh", 'cat\necho " $SUBLARR_EVENT"\n')
    hook = add_hook("echo", "subtitle_downloaded", "echo.sh")
    results: list[object] = []

    def runs() -> None:
        for _ in range(5):
            results.append(fire.test_hook(hook["id"]))

    threads = [threading.Thread(target=runs) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 40
    assert all(r.success and r.stdout.endswith(" test\n") for r in results), [r.error for r in results]
