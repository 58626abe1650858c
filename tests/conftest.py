"""Shared test set-up. sublarr's own fixtures come from its pytest plugin (sublarr.core.testing)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
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


def pip_install_target(source: Path, target: Path, cwd: Path | None = None) -> None:
    """``pip install --target`` of ``source``, without dependencies or build isolation."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(source)],
        check=True, capture_output=True, text=True, timeout=300, cwd=cwd,
        env={**os.environ, "PIP_NO_CACHE_DIR": "1"},
    )  # fmt: skip


@pytest.fixture(scope="session")
def installed_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sublarr installed once per session as ``pip install .`` would (non-editable), in a
    folder of its own: put it on PYTHONPATH to run the installed copy."""
    source = tmp_path_factory.mktemp("sublarr-src") / "src"
    shutil.copytree(
        REPO_ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "build", "*.egg-info", "__pycache__", ".*cache", "tests"
        ),
    )
    target = tmp_path_factory.mktemp("sublarr-site")
    pip_install_target(source, target)
    return target


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


# ---- shared by the storage and delivery tests ------------------------------------------------

# Read at import time: the autouse fixture above removes SUBLARR_* variables per test.
POSTGRES_URL = os.environ.get("SUBLARR_TEST_POSTGRES_URL", "")


REDIS_URL = os.environ.get("SUBLARR_TEST_REDIS_URL", "")


@pytest.fixture
def redis_url() -> str:
    """The test Redis server's URL (``SUBLARR_TEST_REDIS_URL``); skips (loudly) without one."""
    if not REDIS_URL:
        pytest.skip(
            "REDIS NOT TESTED: set SUBLARR_TEST_REDIS_URL=redis://127.0.0.1:56379/0 "
            "(`bash .ci/start-redis` starts one) to run the message-queue tests against a real Redis"
        )
    pytest.importorskip("redis", reason="the 'redis' extra is not installed")
    return REDIS_URL


def upgrade_in_processes(url: str, count: int) -> list[str]:
    """Run ``upgrade_db(url)`` in ``count`` processes at once; return the revision each printed."""
    code = "import sys; from sublarr.core.db import upgrade_db; print(upgrade_db(sys.argv[1]))"
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    procs = [subprocess.Popen([sys.executable, "-c", code, url], **pipes) for _ in range(count)]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * count, [err for _, err in outputs]
    return [out.strip() for out, _ in outputs]


@pytest.fixture
def postgres_url():
    """A URL whose connections work in a fresh schema of the test PostgreSQL server; dropped afterwards.

    Skips (loudly) unless ``SUBLARR_TEST_POSTGRES_URL`` is set.
    """
    if not POSTGRES_URL:
        pytest.skip(
            "POSTGRESQL NOT TESTED: set SUBLARR_TEST_POSTGRES_URL=postgresql+psycopg://user:pass@host/db "
            "(and install the 'postgres' extra) to run the PostgreSQL tests against a real server"
        )
    pytest.importorskip("psycopg", reason="the 'postgres' extra (psycopg) is not installed")
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from sublarr.core.db import dispose_db

    schema = f"sublarr_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    dispose_db()
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        dispose_db()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request, monkeypatch) -> Iterator[str]:
    """The current database, a fresh migrated one: a SQLite file, then a PostgreSQL schema; its URL.

    Tests that use it run once per database; the PostgreSQL run skips (loudly, like
    ``postgres_url``) without ``SUBLARR_TEST_POSTGRES_URL``.
    """
    if request.param == "sqlite":
        yield request.getfixturevalue("sublarr_db")
        return
    url = request.getfixturevalue("postgres_url")
    from sublarr.core.db import dispose_db, init_db

    monkeypatch.setenv("SUBLARR_DATABASE_URL", url)  # for code that re-opens the database
    init_db(url)
    try:
        yield url
    finally:
        dispose_db()


def table_rows() -> dict[str, list[tuple]]:
    """Every row of the plan's five tables, to prove that a refused call changed nothing."""
    from sqlalchemy import select

    from sublarr.core.db import get_engine
    from sublarr.core.db.models import TABLE_NAMES, Base

    with get_engine().connect() as conn:
        return {
            name: sorted(tuple(row) for row in conn.execute(select(Base.metadata.tables[name])))
            for name in TABLE_NAMES
        }


def run_threads(count: int, target, *args) -> list[BaseException]:
    """Run ``target(*args)`` in ``count`` threads at once; return what they raised."""
    import threading

    errors: list[BaseException] = []

    def run() -> None:
        try:
            target(*args)
        except BaseException as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@pytest.fixture
def delivery_env(monkeypatch, sublarr_db, plugin_manager, tmp_path) -> Path:
    """A fresh database, the built-in plugins, short retry and poll waits; returns the hooks dir."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    monkeypatch.setenv("SUBLARR_HOOKS_DIR", str(hooks))
    monkeypatch.setenv("SUBLARR_WEBHOOK_RETRY_BASE", "0.05")
    monkeypatch.setenv("SUBLARR_DELIVERY_POLL_INTERVAL", "0.2")
    return hooks


def wait_logs(count: int, timeout: float = 10.0, **filters) -> list[dict]:
    """Wait until the execution log holds ``count`` rows (of ``filters``); return them."""
    import time

    from sublarr.core.db.hooks import get_hook_logs

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        logs = get_hook_logs(**filters, limit=1000)
        if len(logs) >= count:
            return logs
        time.sleep(0.02)
    raise AssertionError(f"expected {count} log rows, got {get_hook_logs(**filters, limit=1000)}")
