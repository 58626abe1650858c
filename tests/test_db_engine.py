"""init_db / get_engine / session_scope / dispose_db, the `sublarr db` commands, and packaging."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select, text

from sublarr.core.db import (
    current_engine,
    current_revision,
    dispose_db,
    get_engine,
    head_revision,
    init_db,
    session_scope,
    upgrade_db,
)
from sublarr.core.db.models import TABLE_NAMES, HookConfig

from conftest import run_threads, upgrade_in_processes


@pytest.fixture(autouse=True)
def _no_current_db():
    dispose_db()
    yield
    dispose_db()


def test_default_is_an_embedded_sqlite_file_in_the_data_dir(tmp_path, monkeypatch):
    data_dir = tmp_path / "not" / "there" / "yet"
    monkeypatch.setenv("SUBLARR_DATA_DIR", str(data_dir))
    engine = init_db()
    assert engine.dialect.name == "sqlite"
    assert Path(engine.url.database) == data_dir / "sublarr.db"
    assert (data_dir / "sublarr.db").is_file()
    assert (data_dir.stat().st_mode & 0o777) == 0o700
    assert set(TABLE_NAMES) <= set(inspect(engine).get_table_names())


def test_database_url_setting_wins_over_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SUBLARR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SUBLARR_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere' / 'x.db'}")
    engine = init_db()
    assert Path(engine.url.database) == tmp_path / "elsewhere" / "x.db"
    assert not (tmp_path / "data" / "sublarr.db").exists()


def test_an_explicit_url_wins_over_the_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("SUBLARR_DATABASE_URL", f"sqlite:///{tmp_path / 'setting.db'}")
    engine = init_db(f"sqlite:///{tmp_path / 'arg.db'}")
    assert Path(engine.url.database) == tmp_path / "arg.db"
    assert not (tmp_path / "setting.db").exists()


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(sublarr_db):
    with get_engine().connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_init_db_twice_is_a_no_op(tmp_path):
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    first = init_db(url)
    assert init_db(url) is first  # same URL: same engine
    with session_scope() as session:
        session.add(HookConfig(name="keep me", event_name="batch_complete"))
    tables = sorted(inspect(first).get_table_names())
    dispose_db()

    second = init_db(url)  # a new process would do this: the migration finds nothing to do
    assert second is not first
    assert sorted(inspect(second).get_table_names()) == tables
    assert current_revision(url) == head_revision()
    with session_scope() as session:
        assert session.scalars(select(HookConfig.name)).all() == ["keep me"]
    assert upgrade_db(url) == head_revision()


def test_init_db_with_another_url_switches_databases(tmp_path):
    first = init_db(f"sqlite:///{tmp_path / 'a.db'}")
    second = init_db(f"sqlite:///{tmp_path / 'b.db'}")
    assert second is not first and get_engine() is second
    assert Path(get_engine().url.database) == tmp_path / "b.db"


def test_a_failed_init_leaves_no_engine_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("SUBLARR_DATABASE_URL", f"sqlite:///{tmp_path / 'fallback.db'}")
    with pytest.raises(Exception, match="nosuchdb"):
        init_db("nosuchdb://host/db")
    assert Path(get_engine().url.database) == tmp_path / "fallback.db"  # lazily from the setting


def test_session_scope_commits_on_success_and_rolls_back_on_error(sublarr_db):
    with session_scope() as session:
        session.add(HookConfig(name="kept", event_name="batch_complete"))
    with pytest.raises(RuntimeError), session_scope() as session:
        session.add(HookConfig(name="dropped", event_name="batch_complete"))
        session.flush()
        raise RuntimeError("boom")
    with session_scope() as session:
        assert session.scalars(select(HookConfig.name)).all() == ["kept"]


def test_dispose_forgets_the_engine_and_get_engine_reopens_lazily_once(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'lazy.db'}"
    monkeypatch.setenv("SUBLARR_DATABASE_URL", url)
    before = init_db()
    dispose_db()
    seen: list[object] = []
    lock = threading.Lock()

    def grab() -> None:
        engine = get_engine()
        with lock:
            seen.append(engine)

    assert run_threads(16, grab) == []
    assert len(seen) == 16 and len({id(e) for e in seen}) == 1
    assert seen[0] is not before


def test_concurrent_upgrades_of_one_new_file_do_not_collide(tmp_path):
    url = f"sqlite:///{tmp_path / 'race.db'}"
    assert run_threads(6, upgrade_db, url) == []
    assert current_revision(url) == head_revision()


def test_processes_upgrading_one_new_file_wait_for_each_other(tmp_path):
    """Several web workers starting at once: one migrates, the others then find nothing to do."""
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    assert upgrade_in_processes(url, 3) == [head_revision()] * 3


def test_in_memory_sqlite_works_for_a_single_thread():
    engine = init_db("sqlite://")
    with session_scope() as session:
        session.add(HookConfig(name="m", event_name="batch_complete"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM hook_configs")).scalar() == 1


def test_current_revision_does_not_create_a_missing_file(tmp_path):
    path = tmp_path / "missing" / "x.db"
    assert current_revision(f"sqlite:///{path}") is None
    assert not path.exists() and not path.parent.exists()


def test_cli_db_upgrade_then_current(tmp_path, monkeypatch):
    from sublarr.core.cli.main import cli

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    before = runner.invoke(cli, ["db", "current", "--url", url])
    assert before.exit_code == 0, before.output
    assert "revision none (not initialised" in before.output

    upgraded = runner.invoke(cli, ["db", "upgrade", "--url", url])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"at revision {head_revision()} (head)" in upgraded.output

    monkeypatch.setenv("SUBLARR_DATABASE_URL", url)  # without --url: the configured database
    after = runner.invoke(cli, ["db", "current"])
    assert after.exit_code == 0, after.output
    assert f"revision {head_revision()} (up to date)" in after.output


def test_cli_hides_database_passwords(monkeypatch):
    from sublarr.core.cli.db import _describe

    assert "s3cret" not in _describe("postgresql+psycopg://me:s3cret@db.example/sublarr")


def test_migrations_are_found_in_a_non_editable_install(tmp_path, installed_site):
    """`pip install .` ships the migrations: upgrading works from site-packages alone."""
    target = installed_site
    assert (target / "sublarr" / "core" / "db" / "migrations" / "versions" / "0001_initial.py").is_file()
    assert (target / "sublarr" / "core" / "db" / "migrations" / "env.py").is_file()
    code = (
        "import sys, sublarr.core.db as db; from sqlalchemy import create_engine, inspect;"
        "print(db.__file__); print(db.upgrade_db(sys.argv[1]));"
        "print(sorted(inspect(create_engine(sys.argv[1])).get_table_names()))"
    )
    url = f"sqlite:///{tmp_path / 'installed.db'}"
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", code, url], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    module_file, revision, tables = out.stdout.splitlines()
    assert module_file.startswith(str(target))
    assert revision == head_revision()
    assert all(name in tables for name in TABLE_NAMES)


def test_an_unusable_data_dir_raises_storage_error_naming_it(tmp_path, monkeypatch):
    from sublarr.core.errors import StorageError

    a_file = tmp_path / "a-file"
    a_file.write_text("")
    monkeypatch.setenv("SUBLARR_DATA_DIR", str(a_file))
    with pytest.raises(StorageError, match=f"{a_file} is a file, not a directory"):
        init_db()
    monkeypatch.setenv("SUBLARR_DATA_DIR", str(a_file / "data"))
    with pytest.raises(StorageError, match="a part of that path is a file"):
        init_db()
    with pytest.raises(StorageError, match="cannot open the database"):
        upgrade_db(f"sqlite:///{a_file}/x.db")
    assert current_revision(f"sqlite:///{a_file}/x.db") is None  # nothing there, nothing created


def test_a_database_that_cannot_be_opened_raises_storage_error(tmp_path):
    from sublarr.core.errors import StorageError

    (tmp_path / "garbage.db").write_bytes(b"not a database" * 100)
    with pytest.raises(StorageError, match="garbage.db: file is not a database"):
        init_db(f"sqlite:///{tmp_path / 'garbage.db'}")
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StorageError, match="is a directory, not a database file"):
        init_db(f"sqlite:///{tmp_path / 'dir.db'}")
    with pytest.raises(StorageError, match="file is not a database"):
        current_revision(f"sqlite:///{tmp_path / 'garbage.db'}")
    assert current_engine() is None  # nothing half-open left behind


def test_init_db_without_url_uses_the_settings_in_force(tmp_path, monkeypatch):
    from sublarr.core.db.engine import database_url_for, resolve_database_url
    from sublarr.core.settings import load_settings, settings_in_force

    monkeypatch.setenv("SUBLARR_DATA_DIR", str(tmp_path / "env"))
    settings = load_settings({"SUBLARR_DATA_DIR": str(tmp_path / "flag")})
    assert database_url_for(settings).database == str(tmp_path / "flag" / "sublarr.db")
    with settings_in_force(settings):
        assert Path(init_db().url.database) == tmp_path / "flag" / "sublarr.db"
    assert resolve_database_url(create_dir=False).database == str(tmp_path / "env" / "sublarr.db")
