"""The embedded database holds secrets: its file, WAL and SHM are owner-only (issue 9)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from conftest import run_sublarr


@pytest.fixture
def loose_umask():
    """The common default umask (022), which leaves new files world-readable."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_wal_and_shm_are_created_owner_only_in_an_open_data_dir(tmp_path, loose_umask):
    from sublarr.core.db.engine import dispose_db, init_db

    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    db = data_dir / "sublarr.db"
    engine = init_db(f"sqlite:///{db}")
    try:
        with engine.begin() as conn:  # a write with the connection kept: -wal and -shm exist
            conn.execute(text("CREATE TABLE probe (x INTEGER)"))
            conn.execute(text("INSERT INTO probe VALUES (1)"))
        with engine.connect() as conn:
            conn.execute(text("SELECT * FROM probe")).all()
            files = {p.name: _mode(p) for p in data_dir.iterdir()}
    finally:
        dispose_db()
    assert set(files) >= {"sublarr.db", "sublarr.db-wal", "sublarr.db-shm"}, files
    assert files == dict.fromkeys(files, 0o600), {name: oct(mode) for name, mode in files.items()}


def test_an_existing_database_file_keeps_its_mode(tmp_path, loose_umask):
    from sublarr.core.db.engine import dispose_db, init_db

    db = tmp_path / "chosen.db"
    db.touch(mode=0o640)
    db.chmod(0o640)
    init_db(f"sqlite:///{db}")
    dispose_db()
    assert _mode(db) == 0o640


def test_sublarr_db_upgrade_creates_an_owner_only_database(tmp_path, loose_umask):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data_dir.chmod(0o755)
    # The child inherits the umask 022.
    result = run_sublarr("db", "upgrade", env={"SUBLARR_DATA_DIR": str(data_dir)}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert _mode(data_dir / "sublarr.db") == 0o600
