"""Shared test set-up. sublarr's own fixtures come from its pytest plugin (sublarr.core.testing)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def _fresh_plugin_state(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """Every test starts without a current plugin manager, without SUBLARR_* env vars, and
    with a default data dir and config dir of its own (never the user's ~/.local/share/sublarr
    or ~/.config/sublarr/sublarr.toml)."""
    from sublarr.core.db import dispose_db
    from sublarr.core.plugin_manager import reset_plugin_manager

    for key in list(os.environ):
        if key.startswith("SUBLARR_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    reset_plugin_manager()
    yield
    reset_plugin_manager()
    dispose_db()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_sublarr(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    """Run the installed `sublarr` console script in a subprocess."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SUBLARR_")}
    full_env.update(env or {})
    return subprocess.run(
        [str(VENV_BIN / "sublarr"), *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )
