"""Running one script hook: where scripts may live, what they see, how long they may take.

* **Where.** A script must resolve (symlinks followed, ``realpath``) to a regular,
  executable file with exactly one link (``st_nlink == 1``: a hard link could also be
  reached, and changed, from outside) inside the hooks directory (``SUBLARR_HOOKS_DIR``).
  This is checked when a hook is saved and again before every run (``resolve_script``);
  anything else is refused with ``ScriptRefusedError``.
* **What runs.** At run time the resolved path (which holds no symlink) is opened
  component by component from ``/`` without following any link (``O_NOFOLLOW``), the open
  file is checked again (regular, one link, executable), and that very file is executed
  through its descriptor (``/proc/self/fd/N``). A directory or file swapped for a link
  (or another file) after the check makes the run fail; it can never run a file outside
  the hooks directory. So ``$0`` is ``/proc/self/fd/N``; the script's path is in
  ``SUBLARR_SCRIPT_PATH``.
* **How.** The script is run as an argv of one element (no shell), in a new session, with
  an empty private temporary directory as working directory (one per thread, emptied after
  every run), by a helper process that runs one script at a time and is a child subreaper
  on Linux (``sublarr.core.delivery.script_supervisor``). Helpers are started when needed
  and kept for the next runs (at most ``MAX_IDLE_SUPERVISORS`` idle; ``close_supervisors``
  stops the idle ones).
* **What it sees.** A clean environment: ``PATH``, ``HOME``, ``SUBLARR_EVENT`` (the event
  name), ``SUBLARR_EVENT_ID``, ``SUBLARR_EVENT_DATA`` (the payload as JSON),
  ``SUBLARR_SCRIPT_PATH`` and one ``SUBLARR_<KEY>`` per payload key (strings as is,
  numbers and booleans as text, lists and objects as JSON, ``None`` as empty; CR, LF and
  NUL removed). Every value is at most ``ENV_VALUE_LIMIT`` bytes (32 KiB, UTF-8): a longer
  one is cut and ends with ``TRUNCATION_MARKER`` (``...[truncated ...]``). The
  ``SUBLARR_<KEY>`` variables together take at most ``ENV_TOTAL_LIMIT`` bytes (64 KiB,
  names included); keys beyond it are left out. (Linux refuses to start a program with one
  environment string over 128 KiB: "Argument list too long".) The whole payload JSON,
  never cut, is written to the script's stdin.
* **How long.** At ``timeout`` seconds the script and every process it started are killed
  (SIGKILL): its process group, and on Linux every process below the helper, including
  those that called ``setsid`` or double-forked. When the script's own process exits, the
  run is over: whatever it left running is killed the same way, so a leftover that keeps
  stdout open cannot hold the run until the timeout.
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
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sublarr.core.delivery import script_supervisor
from sublarr.core.delivery.script_supervisor import recv_message, send_message
from sublarr.core.errors import SublarrError

logger = logging.getLogger(__name__)

ENV_VALUE_LIMIT = 32 * 1024
ENV_TOTAL_LIMIT = 64 * 1024
TRUNCATION_MARKER = "...[truncated: {size} bytes in all; the whole payload is on stdin]"
DEFAULT_OUTPUT_LIMIT = 4096
# After the timeout, how long the helper may take to kill and report before it is given up.
SUPERVISOR_GRACE_SECONDS = script_supervisor.KILL_WAIT_SECONDS + 5.0
# After the run is reported, how long output still in the pipes is read.
OUTPUT_DRAIN_SECONDS = 1.0
_READ_CHUNK = 65536
_STRIP = str.maketrans("", "", "\r\n\x00")
_DIR_FLAGS = os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | getattr(os, "O_PATH", os.O_RDONLY)
_FILE_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC | getattr(os, "O_PATH", os.O_RDONLY | os.O_NONBLOCK)


class ScriptRefusedError(SublarrError):
    """A script path outside the hooks directory, missing, not an executable file, or hard-linked."""


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
    _check_file(str(real), os.stat(real))
    if not os.access(real, os.X_OK):
        raise ScriptRefusedError(f"script {str(real)!r} is not executable (chmod +x it)")
    return real


def _check_file(path: str, st: os.stat_result) -> None:
    """Refuse anything but a regular file with exactly one link."""
    if stat.S_ISLNK(st.st_mode):
        raise ScriptRefusedError(f"script {path!r} is now a symbolic link: refused")
    if not stat.S_ISREG(st.st_mode):
        raise ScriptRefusedError(f"script {path!r} is not a regular file")
    if st.st_nlink != 1:
        raise ScriptRefusedError(
            f"script {path!r} has {st.st_nlink} hard links: a script must have exactly one, "
            "or it could be reached and changed from outside the hooks directory"
        )


def open_script(script: str | os.PathLike[str]) -> int:
    """A descriptor of the script at ``script`` (a path ``resolve_script`` returned), opened
    without following any link; ``ScriptRefusedError`` when that fails or the file is not a
    regular, executable file with one link. The caller closes it.
    """
    path = os.fspath(script)
    names = path.split("/")
    if not path.startswith("/") or any(n in (".", "..") for n in names) or not names[-1]:
        raise ScriptRefusedError(f"script {path!r} is not a resolved absolute path")
    names = [n for n in names if n]
    fd = os.open("/", _DIR_FLAGS)
    try:
        for name in names[:-1]:
            parent, fd = fd, -1
            try:
                fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
            finally:
                os.close(parent)
        script_fd = os.open(names[-1], _FILE_FLAGS, dir_fd=fd)
    except OSError as exc:
        raise ScriptRefusedError(
            f"script {path!r} cannot be opened without following a link "
            f"({exc.strerror or exc}): was a directory or the script replaced after the check?"
        ) from None
    finally:
        if fd >= 0:
            os.close(fd)
    try:
        _check_file(path, os.fstat(script_fd))
        if not os.access(f"/proc/self/fd/{script_fd}" if sys.platform.startswith("linux") else path, os.X_OK):
            raise ScriptRefusedError(f"script {path!r} is not executable (chmod +x it)")
    except BaseException:
        os.close(script_fd)
        raise
    return script_fd


def cap_env_value(text: str) -> str:
    """``text`` as it fits in one environment value: at most ``ENV_VALUE_LIMIT`` UTF-8 bytes.

    A longer text is cut at a character boundary and ends with ``TRUNCATION_MARKER``; a
    lone surrogate (no valid text) becomes ``?``.
    """
    data = text.encode("utf-8", "replace")
    if len(data) <= ENV_VALUE_LIMIT:
        return data.decode("utf-8") if len(data) != len(text) else text
    marker = TRUNCATION_MARKER.format(size=len(data))
    return data[: ENV_VALUE_LIMIT - len(marker)].decode("utf-8", "ignore") + marker


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
    return cap_env_value(text.translate(_STRIP))


def build_environment(
    event_name: str, event_id: str, payload: dict[str, Any], payload_json: str | None = None
) -> dict[str, str]:
    """The complete environment a hook script runs with (see the module docs)."""
    fixed = {
        "PATH": cap_env_value(os.environ.get("PATH") or os.defpath),
        "HOME": cap_env_value(os.environ.get("HOME") or tempfile.gettempdir()),
        "SUBLARR_EVENT": cap_env_value(event_name.translate(_STRIP)),
        "SUBLARR_EVENT_ID": cap_env_value(event_id.translate(_STRIP)),
        "SUBLARR_EVENT_DATA": cap_env_value(
            payload_json if payload_json is not None else json.dumps(payload)
        ),
    }
    env: dict[str, str] = {}
    room = ENV_TOTAL_LIMIT
    for key, value in payload.items():
        name = f"SUBLARR_{str(key).upper()}"
        if name in fixed or "=" in name or "\x00" in name:
            continue
        text = env_value(value)
        size = len(name) + len(text.encode("utf-8")) + 2
        if size > room:
            continue  # left out: it no longer fits; the payload on stdin has it
        env[name] = text
        room -= size
    env.update(fixed)
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


class SupervisorError(SublarrError):
    """The helper process that runs scripts failed (it is replaced on the next run)."""


def _close_supervisor(sock: socket.socket, process: subprocess.Popen[bytes]) -> None:
    """Close the helper's socket (it then kills what is left and exits) and reap it."""
    with contextlib.suppress(OSError):
        sock.close()
    try:
        process.wait(timeout=script_supervisor.KILL_WAIT_SECONDS + 1)
    except subprocess.TimeoutExpired:
        process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=2)


class _Supervisor:
    """A helper process that runs one script at a time (``script_supervisor``)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", script_supervisor.__file__, str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                close_fds=True,
                start_new_session=True,  # Ctrl-C on sublarr's terminal is not for it
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.sock = ours
        self.close = weakref.finalize(self, _close_supervisor, ours, self.process)

    def usable(self) -> bool:
        """Not closed, and its process still running."""
        return self.close.alive and self.process.poll() is None

    def run(
        self,
        script_fd: int,
        argv0: str,
        env: dict[str, str],
        cwd: str,
        data: bytes,
        timeout: float,
        out: _Capture,
        err: _Capture,
    ) -> dict[str, Any]:
        """One run: hand the script to the helper, feed stdin, collect output and the answer."""
        owned: set[int] = set()  # descriptors of this run still open here; each closed once
        try:
            stdin_r, stdin_w = os.pipe()
            owned.update((stdin_r, stdin_w))
            out_r, out_w = os.pipe()
            owned.update((out_r, out_w))
            err_r, err_w = os.pipe()
            owned.update((err_r, err_w))
            request = {"argv0": argv0, "env": env, "cwd": cwd, "timeout": timeout}
            try:
                send_message(self.sock, request, [script_fd, stdin_r, out_w, err_w])
            finally:
                for fd in (stdin_r, out_w, err_w):  # the helper has its own copies now
                    _close(fd, owned)
            return self._communicate(stdin_w, {out_r: out, err_r: err}, data, timeout, owned)
        finally:
            for fd in list(owned):
                _close(fd, owned)

    def _communicate(
        self, stdin_w: int, captures: dict[int, _Capture], data: bytes, timeout: float, owned: set[int]
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout + SUPERVISOR_GRACE_SECONDS
        sel = selectors.DefaultSelector()
        sock_fd = self.sock.fileno()
        pending = memoryview(data)

        def stop_writing() -> None:
            if stdin_w in owned:
                with contextlib.suppress(KeyError):
                    sel.unregister(stdin_w)
                _close(stdin_w, owned)

        try:
            for fd in captures:
                sel.register(fd, selectors.EVENT_READ)
            sel.register(sock_fd, selectors.EVENT_READ)
            if pending:
                os.set_blocking(stdin_w, False)
                sel.register(stdin_w, selectors.EVENT_WRITE)
            else:
                stop_writing()
            answer: dict[str, Any] | None = None
            while captures or answer is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    if answer is not None:
                        break  # output still held open after the run: keep what was read
                    raise SupervisorError(f"the script runner did not answer within {timeout:g} s")
                for key, _ in sel.select(remaining):
                    fd = key.fd
                    if fd == sock_fd and answer is None:
                        sel.unregister(fd)
                        answer, _fds = recv_message(self.sock)
                        if answer is None:
                            raise SupervisorError("the script runner exited unexpectedly")
                        deadline = min(deadline, time.monotonic() + OUTPUT_DRAIN_SECONDS)
                        stop_writing()
                    elif fd == stdin_w and stdin_w in owned:
                        try:
                            pending = pending[os.write(fd, pending[:_READ_CHUNK]) :]
                        except BlockingIOError:
                            continue
                        except OSError:  # the script does not read its stdin: fine
                            pending = pending[:0]
                        if not pending:
                            stop_writing()
                    elif fd in captures:
                        chunk = os.read(fd, _READ_CHUNK)
                        if chunk:
                            captures[fd].add(chunk)
                        else:
                            sel.unregister(fd)
                            del captures[fd]
            assert answer is not None
            return answer
        finally:
            sel.close()


def _close(fd: int, owned: set[int]) -> None:
    """Close ``fd`` if it is still in ``owned`` (never twice: the number may be reused)."""
    if fd in owned:
        owned.discard(fd)
        with contextlib.suppress(OSError):
            os.close(fd)


MAX_IDLE_SUPERVISORS = 8
_idle: list[_Supervisor] = []
_idle_lock = threading.Lock()


def _take_supervisor() -> _Supervisor:
    """An idle helper process (the most recently used), or a new one."""
    while True:
        with _idle_lock:
            if not _idle:
                return _Supervisor()
            candidate = _idle.pop()
        if candidate.usable():
            return candidate
        candidate.close()


def _give_back(supervisor: _Supervisor) -> None:
    """Keep ``supervisor`` for the next run (or stop it when enough are idle)."""
    with _idle_lock:
        if len(_idle) < MAX_IDLE_SUPERVISORS:
            _idle.append(supervisor)
            return
    supervisor.close()


def close_supervisors() -> None:
    """Stop the idle helper processes (new ones are started when needed)."""
    with _idle_lock:
        idle, _idle[:] = list(_idle), []
    for supervisor in idle:
        supervisor.close()


def run_script(
    script: str | os.PathLike[str],
    *,
    env: dict[str, str],
    stdin: bytes = b"",
    timeout: float = 30.0,
    output_limit: int = DEFAULT_OUTPUT_LIMIT,
) -> ScriptResult:
    """Run ``script`` (a path ``resolve_script`` returned) once and return its ``ScriptResult``."""
    started = time.monotonic()
    out, err = _Capture(output_limit), _Capture(output_limit)

    def result(**fields: Any) -> ScriptResult:
        fields.setdefault("exit_code", None)
        return ScriptResult(
            stdout=out.text(), stderr=err.text(), duration_ms=(time.monotonic() - started) * 1000, **fields
        )

    try:
        script_fd = open_script(script)
    except ScriptRefusedError as exc:
        return result(error=str(exc))
    cwd = _workdir()
    supervisor = None
    try:
        supervisor = _take_supervisor()
        env = {**env, "SUBLARR_SCRIPT_PATH": cap_env_value(os.fspath(script))}
        answer = supervisor.run(script_fd, os.fspath(script), env, cwd, stdin, timeout, out, err)
    except (SupervisorError, OSError) as exc:
        if supervisor is not None:
            supervisor.close()  # it kills what is left of the run and exits (or is killed)
            supervisor = None
        logger.error("script runner failed running %s: %s", os.fspath(script), exc)
        return result(error=f"the script runner failed: {exc}")
    finally:
        if supervisor is not None:
            _give_back(supervisor)
        os.close(script_fd)
        _empty(cwd)
    if answer.get("timed_out"):
        return result(
            timed_out=True,
            error=f"timed out after {timeout:g} s: the script and every process it started were killed",
        )
    if answer.get("killed"):
        logger.info("script %s left %d process(es) running; killed", os.fspath(script), answer["killed"])
    return result(exit_code=answer.get("exit_code"), error=answer.get("error") or "")
