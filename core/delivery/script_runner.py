"""Running one script hook: where scripts may live, what they see, how long they may take.

* **Where.** A script must resolve (symlinks followed, ``realpath``) to a regular,
  executable file inside the hooks directory (``SUBLARR_HOOKS_DIR``). This is checked
  when a hook is saved and again before every run; anything else is refused with
  ``ScriptRefusedError``.
* **How.** The script is run as an argv of one element (no shell), in a new session (its
  own process group), with an empty private temporary directory as working directory
  (one per worker thread, emptied after every run).
* **What it sees.** A clean environment: ``PATH``, ``HOME``, ``SUBLARR_EVENT`` (the event
  name), ``SUBLARR_EVENT_ID``, ``SUBLARR_EVENT_DATA`` (the payload as JSON) and one
  ``SUBLARR_<KEY>`` per payload key (strings as is, numbers and booleans as text, lists
  and objects as JSON, ``None`` as empty; CR, LF and NUL removed; at most
  ``ENV_VALUE_LIMIT`` characters). The payload JSON is also written to its stdin.
* **How long.** At ``timeout`` seconds the whole process group is killed (SIGKILL), so
  children the script started die with it. When the script exits, whatever it left
  running in its group is killed too.
* **Output.** stdout and stderr are captured, each kept up to ``output_limit`` bytes
  (the rest is read and dropped, with a note). Success is exit code 0.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sublarr.core.errors import SublarrError

logger = logging.getLogger(__name__)

ENV_VALUE_LIMIT = 4096
DEFAULT_OUTPUT_LIMIT = 4096
_READ_CHUNK = 65536
_STRIP = str.maketrans("", "", "\r\n\x00")


class ScriptRefusedError(SublarrError):
    """A script path outside the hooks directory, missing, or not an executable file."""


def resolve_script(script_path: str | os.PathLike[str], hooks_dir: str | os.PathLike[str]) -> Path:
    """The real path of ``script_path`` if it may run; ``ScriptRefusedError`` otherwise.

    A relative ``script_path`` is taken relative to ``hooks_dir``.
    """
    if not os.fspath(script_path).strip():
        raise ScriptRefusedError("script path is empty")
    try:
        return _resolve(script_path, hooks_dir)
    except (OSError, ValueError, RuntimeError) as exc:  # unknown ~user, name too long, bad bytes
        raise ScriptRefusedError(
            f"script path {os.fspath(script_path)[:200]!r} cannot be resolved: {exc}"
        ) from None


def _resolve(script_path: str | os.PathLike[str], hooks_dir: str | os.PathLike[str]) -> Path:
    root = Path(os.path.realpath(hooks_dir))
    raw = Path(os.fspath(script_path)).expanduser()
    if "\x00" in str(raw):
        raise ScriptRefusedError("script path contains a NUL character")
    candidate = raw if raw.is_absolute() else root / raw
    real = Path(os.path.realpath(candidate))
    if real == root or os.path.commonpath([root, real]) != str(root):
        raise ScriptRefusedError(
            f"script {str(raw)!r} resolves to {str(real)!r}, outside the hooks directory "
            f"{str(root)!r} (SUBLARR_HOOKS_DIR): scripts must live there"
        )
    if not real.exists():
        raise ScriptRefusedError(f"script {str(real)!r} does not exist")
    if not real.is_file():
        raise ScriptRefusedError(f"script {str(real)!r} is not a regular file")
    if not os.access(real, os.X_OK):
        raise ScriptRefusedError(f"script {str(real)!r} is not executable (chmod +x it)")
    return real


def env_value(value: Any) -> str:
    """A payload value as an environment variable value."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float, str)):
        text = str(value)
    else:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.translate(_STRIP)[:ENV_VALUE_LIMIT]


def build_environment(
    event_name: str, event_id: str, payload: dict[str, Any], payload_json: str | None = None
) -> dict[str, str]:
    """The complete environment a hook script runs with (see the module docs)."""
    env = {f"SUBLARR_{key.upper()}": env_value(value) for key, value in payload.items()}
    env.update(
        {
            "PATH": os.environ.get("PATH") or os.defpath,
            "HOME": os.environ.get("HOME") or tempfile.gettempdir(),
            "SUBLARR_EVENT": event_name.translate(_STRIP),
            "SUBLARR_EVENT_ID": event_id.translate(_STRIP),
            "SUBLARR_EVENT_DATA": payload_json if payload_json is not None else json.dumps(payload),
        }
    )
    return env


@dataclass
class ScriptResult:
    """What one run of a script did."""

    exit_code: int | None
    stdout: str
    stderr: str
    duration_ms: float
    timed_out: bool = False
    error: str = ""

    @property
    def success(self) -> bool:
        """Exit code 0 within the timeout."""
        return self.exit_code == 0 and not self.timed_out and not self.error


class _Capture:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[bytes] = []
        self.kept = 0
        self.dropped = 0

    def add(self, data: bytes) -> None:
        room = self.limit - self.kept
        if room > 0:
            self.chunks.append(data[:room])
            self.kept += min(room, len(data))
        self.dropped += max(0, len(data) - max(room, 0))

    def text(self) -> str:
        text = b"".join(self.chunks).decode("utf-8", "replace")
        if self.dropped:
            text += f"\n[... {self.dropped} more bytes not kept]"
        return text


_workdirs = threading.local()
_all_workdirs: set[str] = set()


def _workdir() -> str:
    """This thread's private, empty working directory for scripts (made once, emptied after each run)."""
    path = getattr(_workdirs, "path", None)
    if path is None or not os.path.isdir(path):
        path = tempfile.mkdtemp(prefix="sublarr-hook-")
        _workdirs.path = path
        _all_workdirs.add(path)
    return path


def _empty(path: str) -> None:
    """Remove whatever a script left in its working directory."""
    try:
        with os.scandir(path) as entries:
            leftovers = list(entries)
    except OSError:
        _workdirs.path = None
        return
    for entry in leftovers:
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


@atexit.register
def _remove_workdirs() -> None:
    for path in list(_all_workdirs):
        shutil.rmtree(path, ignore_errors=True)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def run_script(
    script: str | os.PathLike[str],
    *,
    env: dict[str, str],
    stdin: bytes = b"",
    timeout: float = 30.0,
    output_limit: int = DEFAULT_OUTPUT_LIMIT,
) -> ScriptResult:
    """Run ``script`` (already resolved) once and return its ``ScriptResult``."""
    started = time.monotonic()
    deadline = started + timeout
    cwd = _workdir()
    try:
        try:
            proc = subprocess.Popen(
                [os.fspath(script)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cwd,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            return ScriptResult(
                exit_code=None,
                stdout="",
                stderr="",
                duration_ms=(time.monotonic() - started) * 1000,
                error=f"cannot start script: {exc.strerror or exc}",
            )
        out, err = _Capture(output_limit), _Capture(output_limit)
        try:
            timed_out = _communicate(proc, stdin, deadline, out, err)
        finally:
            _kill_group(proc.pid)
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
            exit_code = proc.wait()
    finally:
        _empty(cwd)
    duration_ms = (time.monotonic() - started) * 1000
    if timed_out:
        return ScriptResult(
            exit_code=None,
            stdout=out.text(),
            stderr=err.text(),
            duration_ms=duration_ms,
            timed_out=True,
            error=f"timed out after {timeout:g} s: process group killed",
        )
    return ScriptResult(exit_code=exit_code, stdout=out.text(), stderr=err.text(), duration_ms=duration_ms)


def _communicate(
    proc: subprocess.Popen[bytes], data: bytes, deadline: float, out: _Capture, err: _Capture
) -> bool:
    """Feed stdin, collect output until the script's group is gone; ``True`` on timeout."""
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    sel = selectors.DefaultSelector()
    pidfd = None
    try:
        if hasattr(os, "pidfd_open"):
            with contextlib.suppress(OSError):
                pidfd = os.pidfd_open(proc.pid)
        captures = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
        for fd in captures:
            sel.register(fd, selectors.EVENT_READ)
        stdin_fd = proc.stdin.fileno()
        pending = memoryview(data)
        if pending:
            os.set_blocking(stdin_fd, False)
            sel.register(stdin_fd, selectors.EVENT_WRITE)
        else:
            proc.stdin.close()
        if pidfd is not None:
            sel.register(pidfd, selectors.EVENT_READ)
        exited = False
        while captures or not exited:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            wait = remaining if pidfd is not None else min(remaining, 0.02)
            for key, _ in sel.select(wait):
                fd = key.fd
                if fd == pidfd:
                    # The script exited (not reaped yet, so its group id is still ours):
                    # end whatever it left behind; the pipes then reach EOF.
                    sel.unregister(fd)
                    exited = True
                    _kill_group(proc.pid)
                elif fd == stdin_fd:
                    try:
                        written = os.write(fd, pending[:_READ_CHUNK])
                        pending = pending[written:]
                    except (BrokenPipeError, BlockingIOError) as exc:
                        if isinstance(exc, BlockingIOError):
                            continue
                        pending = pending[:0]
                    if not pending:
                        sel.unregister(fd)
                        proc.stdin.close()
                else:
                    chunk = os.read(fd, _READ_CHUNK)
                    if chunk:
                        captures[fd].add(chunk)
                    else:
                        sel.unregister(fd)
                        del captures[fd]
            if pidfd is None and not exited and proc.poll() is not None:
                exited = True
                _kill_group(proc.pid)
        return False
    finally:
        sel.close()
        if pidfd is not None:
            os.close(pidfd)
