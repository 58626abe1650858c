"""The helper process that runs hook scripts, one run at a time: a child subreaper.

``sublarr.core.delivery.script_runner`` keeps a few of them (``python -I -S <this file>
<fd>``, each in a session of its own), takes an idle one for each run, and hands it the
run over a Unix socket: the script's open file descriptor and its stdin/stdout/stderr pipes
(``SCM_RIGHTS``), with ``argv0``, ``env``, ``cwd`` and ``timeout``. For each run it

1. starts the script (``posix_spawn``) in a new session, executing the descriptor it got
   (``/proc/self/fd/N``, which works for ``#!`` scripts too), with SIGPIPE and SIGXFSZ at
   their defaults;
2. waits until the script's own process exits, or the timeout passes;
3. kills (SIGKILL) the script's process group and every process still below the helper,
   and reaps them. On Linux the helper is a child subreaper (``PR_SET_CHILD_SUBREAPER``):
   every orphan below it - a child that called ``setsid``, a double fork - becomes its
   child instead of init's, so nothing the script started gets away, and a grandchild that
   keeps the output pipes open cannot hold the run open;
4. answers ``{"exit_code", "timed_out", "error", "killed"}``.

A helper runs one script at a time, so everything below it belongs to that run: runs at
the same time have helpers of their own and are never touched. When its socket closes
(sublarr closed it, exited or died) it kills whatever is left and exits. Only the
standard library is used, so this file runs without sublarr on ``sys.path``.
"""

from __future__ import annotations

import ctypes
import marshal
import os
import select
import signal
import socket
import struct
import sys
import time
from typing import Any

MAX_FDS = 8
_HEADER = struct.Struct(">I")
_PR_SET_CHILD_SUBREAPER = 36
# How long the helper keeps killing and reaping what a run left before it gives up.
KILL_WAIT_SECONDS = 5.0


# -- the wire format: a 4-byte length, marshal data, descriptors with the first bytes ---------
# (marshal: both ends are the same interpreter, and it needs no import - the helper starts fast)


def send_message(sock: socket.socket, message: dict[str, Any], fds: list[int] | tuple[int, ...] = ()) -> None:
    """Send ``message`` (plain dicts, lists, text, numbers) over ``sock``, with ``fds`` attached."""
    body = marshal.dumps(message)
    data = _HEADER.pack(len(body)) + body
    sent = socket.send_fds(sock, [data], list(fds)) if fds else sock.send(data)
    if sent < len(data):
        sock.sendall(data[sent:])


def recv_message(sock: socket.socket) -> tuple[dict[str, Any] | None, list[int]]:
    """The next message on ``sock`` and the descriptors it carried; ``(None, [])`` at EOF."""
    data, fds, _flags, _addr = socket.recv_fds(sock, 65536, MAX_FDS, socket.MSG_CMSG_CLOEXEC)
    try:
        if not data:
            raise EOFError
        while len(data) < _HEADER.size:
            data += _recv_some(sock, _HEADER.size - len(data))
        (length,) = _HEADER.unpack_from(data)
        while len(data) < _HEADER.size + length:
            data += _recv_some(sock, _HEADER.size + length - len(data))
        return marshal.loads(data[_HEADER.size : _HEADER.size + length]), fds
    except EOFError:
        for fd in fds:
            os.close(fd)
        return None, []


def _recv_some(sock: socket.socket, size: int) -> bytes:
    chunk = sock.recv(min(size, 65536))
    if not chunk:
        raise EOFError
    return chunk


# -- the helper --------------------------------------------------------------------------------


def _become_subreaper() -> bool:
    """Make this process the parent of every orphan below it (Linux); whether that worked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (every thread's), from /proc; ``[]`` when unknown."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                out.extend(int(p) for p in f.read().split())
        except (OSError, ValueError):
            continue
    return out


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, parents before their children."""
    found: list[int] = []
    queue = _children(pid)
    seen: set[int] = set()
    while queue:
        child = queue.pop(0)
        if child in seen:
            continue
        seen.add(child)
        found.append(child)
        queue.extend(_children(child))
    return found


def _signal(pid: int, sig: int, group: bool = False) -> None:
    try:  # noqa: SIM105 - no contextlib: fewer imports, a faster start
        (os.killpg if group else os.kill)(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class _Run:
    """One script run: the script's process, its status once reaped, what was killed."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.status: int | None = None
        self.killed: set[int] = set()

    def reap(self) -> bool:
        """Reap every child that has ended; ``True`` when none is left."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return True
            if pid == 0:
                return False
            if pid == self.pid:
                self.status = os.waitstatus_to_exitcode(status)

    def kill_everything(self) -> None:
        """SIGKILL the script's group and every process below this helper; reap them all."""
        if self.status is None:  # not reaped yet: its group id cannot belong to anyone else
            _signal(self.pid, signal.SIGKILL, group=True)
        deadline = time.monotonic() + KILL_WAIT_SECONDS
        while not self.reap():
            for pid in _descendants(os.getpid()):
                if pid != self.pid:
                    self.killed.add(pid)
                _signal(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                break
            time.sleep(0.002)


def _wait(pid: int, control: socket.socket, timeout: float) -> str:
    """Wait for the script to exit: ``"exited"``, ``"timeout"`` or ``"closed"`` (sublarr went away)."""
    deadline = time.monotonic() + timeout
    poller = select.poll()
    pidfd = None
    try:
        pidfd = os.pidfd_open(pid)
        poller.register(pidfd, select.POLLIN)
    except (AttributeError, OSError):  # no pidfd (before Linux 5.3, not Linux): polled below
        pass
    poller.register(control, select.POLLIN | select.POLLHUP)
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            wait = remaining if pidfd is not None else min(remaining, 0.01)
            for fd, _ in poller.poll(wait * 1000):
                if fd == control.fileno():
                    return "closed"
                if fd == pidfd:
                    return "exited"
            if pidfd is None and _has_exited(pid):
                return "exited"
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _has_exited(pid: int) -> bool:
    """Whether ``pid`` (a child) has exited, without reaping it."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


_FD_DIR = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
# Python ignores these; a script starts with them at their defaults, as from a shell.
_DEFAULT_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ", "SIGXFZ") if hasattr(signal, name)
)


def run_one(request: dict[str, Any], fds: list[int], control: socket.socket) -> dict[str, Any]:
    """Run the script of ``request`` once (see the module docs); the answer to send back."""
    answer: dict[str, Any] = {"exit_code": None, "timed_out": False, "error": "", "killed": 0}
    if len(fds) != 4:
        for fd in fds:
            os.close(fd)
        answer["error"] = f"the script runner got {len(fds)} descriptors instead of 4"
        return answer
    script_fd, stdin_fd, stdout_fd, stderr_fd = fds
    try:
        os.chdir(request["cwd"])  # this process runs one script at a time: its cwd is the run's
        os.set_inheritable(script_fd, True)  # a #! interpreter opens /proc/self/fd/N itself
        pid = os.posix_spawn(
            f"{_FD_DIR}/{script_fd}",
            [request["argv0"]],
            request["env"],
            file_actions=[
                (os.POSIX_SPAWN_DUP2, stdin_fd, 0),
                (os.POSIX_SPAWN_DUP2, stdout_fd, 1),
                (os.POSIX_SPAWN_DUP2, stderr_fd, 2),
            ],
            setsid=True,
            setsigdef=_DEFAULT_SIGNALS,
        )
    except (OSError, ValueError, UnicodeError, KeyError, TypeError) as exc:
        answer["error"] = f"cannot start script: {getattr(exc, 'strerror', None) or exc}"
        return answer
    finally:
        for fd in fds:
            os.close(fd)
    run = _Run(pid)
    outcome = _wait(pid, control, float(request["timeout"]))
    run.kill_everything()
    answer.update(
        exit_code=None if outcome != "exited" else run.status,
        timed_out=outcome == "timeout",
        killed=len(run.killed),
        closed=outcome == "closed",
    )
    return answer


def main(argv: list[str]) -> int:
    """Serve runs on the socket whose descriptor is ``argv[1]`` until it closes."""
    control = socket.socket(fileno=int(argv[1]))
    control.set_inheritable(False)  # scripts must not get it
    _become_subreaper()
    while True:
        try:
            request, fds = recv_message(control)
        except (OSError, ValueError):
            break
        if request is None:
            break
        answer = run_one(request, fds, control)
        if answer.pop("closed", False):
            break
        try:
            send_message(control, answer)
        except OSError:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
