"""The database engine: where sublarr's tables live and how to reach them.

* ``init_db(url=None)`` - open the database and bring its schema to the newest Alembic
  revision; returns the process-wide ``Engine``. Without ``url`` it uses the settings in
  force (``sublarr.core.settings.current_settings``): ``SUBLARR_DATABASE_URL`` and, when
  that is unset, the embedded SQLite file ``<SUBLARR_DATA_DIR>/sublarr.db`` (its directory
  is created, mode 0700; the file is created owner-only, mode 0600, and SQLite gives its
  ``-wal`` and ``-shm`` files the same mode, whatever the umask or the mode of a directory
  that already existed). A data dir or database that cannot be used raises
  ``StorageError`` saying which path or URL and why.
* ``get_engine()`` - the process-wide engine, calling ``init_db()`` on first use.
* ``session_scope()`` - a ``Session`` that commits on success and rolls back on error.
* ``dispose_db()`` - close every connection and forget the engine (tests, shutdown).
* ``upgrade_db(url=None)`` / ``current_revision(url=None)`` / ``head_revision()`` -
  what ``sublarr db upgrade`` and ``sublarr db current`` run.

Any SQLAlchemy URL works; ``postgresql+psycopg://user:pass@host/db`` needs the ``postgres``
extra. SQLite connections get WAL journaling, ``foreign_keys=ON`` and a busy timeout of
``SQLITE_BUSY_TIMEOUT_MS``, so many threads can read while one writes. All functions are
thread-safe. Migrations ship inside the package (``sublarr/core/db/migrations``): no
``alembic.ini`` is needed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from sublarr.core.errors import StorageError

if TYPE_CHECKING:
    from sublarr.core.settings import Settings

logger = logging.getLogger(__name__)

DB_FILENAME = "sublarr.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_PG_MIGRATION_LOCK_KEY = 0x5B1A4D16  # any constant; identifies sublarr's migration lock

_lock = threading.RLock()
_migration_lock = threading.Lock()
_engine: Engine | None = None
_session_factory: sessionmaker[Session] | None = None
_engine_url: str | None = None


def _is_sqlite_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def database_url_for(settings: Settings) -> URL:
    """The database ``settings`` name: ``SUBLARR_DATABASE_URL``, else ``<data dir>/sublarr.db``."""
    if settings.database_url:
        try:
            return make_url(settings.database_url)
        except ArgumentError:
            raise StorageError("SUBLARR_DATABASE_URL is not a database URL like sqlite:///path") from None
    return URL.create("sqlite", database=str(settings.data_dir / DB_FILENAME))


def resolve_database_url(
    url: str | URL | None = None, *, create_dir: bool = True, settings: Settings | None = None
) -> URL:
    """The URL ``init_db(url)`` would open: ``url``, else the one of ``settings`` (default: in force).

    For a SQLite file the parent directory is created when ``create_dir`` is true.
    """
    if url is None:
        from sublarr.core.settings import current_settings

        resolved = database_url_for(settings if settings is not None else current_settings())
    else:
        resolved = make_url(url)
    if create_dir and resolved.get_backend_name() == "sqlite" and not _is_sqlite_memory(resolved):
        problem = _make_private_dir(Path(str(resolved.database)).expanduser().parent)
        if problem is not None:
            where = resolved.render_as_string(hide_password=True)
            raise StorageError(f"cannot open the database {where}: {problem}")
    return resolved


def _make_private_dir(directory: Path) -> str | None:
    """Create ``directory`` owner-only (0700) unless it exists; what is wrong with it, or None."""
    if directory.is_dir():
        return None
    if directory.exists():
        return f"{directory} is a file, not a directory"
    try:
        # The data dir also holds webhook secrets and the API key: owner only.
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except (NotADirectoryError, FileExistsError):
        return f"{directory} cannot be created: a part of that path is a file, not a directory"
    except OSError as exc:
        return f"{directory} cannot be created: {exc.strerror or exc}"
    return None


def ensure_private_dir(directory: Path, what: str = "data directory") -> Path:
    """Create ``directory`` (and its parents) owner-only, mode 0700, unless it exists.

    Raises ``StorageError`` naming the path when it is a file, lies under a file, or
    cannot be created.
    """
    directory = Path(directory).expanduser()
    problem = _make_private_dir(directory)
    if problem is not None:
        raise StorageError(f"the {what} cannot be used: {problem}")
    return directory


def _storage_error(url: URL, exc: DatabaseError) -> StorageError:
    """A ``StorageError`` for a database that cannot be opened, the URL's password hidden."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    where = url.render_as_string(hide_password=True)
    hint = ""
    if url.get_backend_name() == "sqlite" and not _is_sqlite_memory(url):
        path = Path(str(url.database)).expanduser()
        if path.is_dir():
            hint = f" ({path} is a directory, not a database file)"
        elif reason == "unable to open database file":
            hint = f" (may sublarr write to {path.parent}?)"
    return StorageError(f"cannot open the database {where}: {reason}{hint}")


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _create_private_sqlite_file(url: URL) -> None:
    """Create the SQLite file of ``url`` owner-only (0600) if it does not exist yet.

    It holds webhook secrets. SQLite creates the ``-wal`` and ``-shm`` files with the mode
    of the database file, so they are owner-only too.
    """
    if _is_sqlite_memory(url) or str(url.database).startswith("file:"):
        return
    try:
        fd = os.open(Path(str(url.database)).expanduser(), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:  # it exists (left as it is), or SQLite will report why it cannot be opened
        return
    os.close(fd)


def create_sublarr_engine(url: str | URL) -> Engine:
    """A new ``Engine`` for ``url`` with sublarr's connection settings (no migration run)."""
    url = make_url(url)
    kwargs: dict[str, Any] = {"future": True}
    if url.get_backend_name() == "sqlite":
        _create_private_sqlite_file(url)
        kwargs["connect_args"] = {"check_same_thread": False}
        if _is_sqlite_memory(url):
            # One shared connection, or every pooled connection would see its own empty database.
            kwargs["poolclass"] = StaticPool
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


def _alembic_config(url: URL) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def _run_upgrade(engine: Engine) -> str:
    """Upgrade the database behind ``engine`` to head; return the revision it is at."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    config = _alembic_config(engine.url)
    # Alembic's `context`/`op` proxies are process globals: one migration at a time.
    with _migration_lock, engine.connect() as connection:
        # Take a lock first: the whole migration is one transaction, and a second process
        # migrating the same database (several web workers starting) waits, then finds
        # nothing to do.
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        revision = MigrationContext.configure(connection).get_current_revision()
        connection.commit()
    return revision or ""


def init_db(url: str | URL | None = None) -> Engine:
    """Open the database (see module docs for the default), migrate it to head, make it current.

    Calling it again with the same URL returns the same engine; with another URL the
    previous engine is disposed first.
    """
    global _engine, _session_factory, _engine_url
    with _lock:
        resolved = resolve_database_url(url)
        key = resolved.render_as_string(hide_password=False)
        if _engine is not None and _engine_url == key:
            return _engine
        if _engine is not None:
            _dispose_locked()
        engine = create_sublarr_engine(resolved)
        try:
            revision = _run_upgrade(engine)
        except DatabaseError as exc:
            engine.dispose()
            raise _storage_error(resolved, exc) from exc
        except BaseException:
            engine.dispose()
            raise
        _engine = engine
        _engine_url = key
        _session_factory = sessionmaker(bind=engine, expire_on_commit=False)
        _forget_cached_scoring()
        logger.info(
            "database %s ready at revision %s", resolved.render_as_string(hide_password=True), revision
        )
        return engine


def current_engine() -> Engine | None:
    """The current engine, or ``None`` before ``init_db``; never opens a database."""
    return _engine


def get_engine() -> Engine:
    """The current engine; ``init_db()`` with the configured URL on first use."""
    engine = _engine
    if engine is not None:
        return engine
    with _lock:
        return _engine if _engine is not None else init_db()


def _get_session_factory() -> sessionmaker[Session]:
    factory = _session_factory
    if factory is not None:
        return factory
    with _lock:
        if _session_factory is None:
            init_db()
        assert _session_factory is not None
        return _session_factory


@contextmanager
def session_scope() -> Iterator[Session]:
    """A ``Session`` on the current engine: committed when the block ends, rolled back on error."""
    session = _get_session_factory()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _dispose_locked() -> None:
    global _engine, _session_factory, _engine_url
    engine = _engine
    _engine = None
    _session_factory = None
    _engine_url = None
    if engine is not None:
        engine.dispose()
    _forget_cached_scoring()


def _forget_cached_scoring() -> None:
    """Scoring caches hold data of the previous database: drop them when it changes."""
    from sublarr.core.scoring.cache import invalidate_scoring_cache

    invalidate_scoring_cache()


def dispose_db() -> None:
    """Close the current engine's connections and forget it; the next use re-initialises."""
    with _lock:
        _dispose_locked()


def upgrade_db(url: str | URL | None = None) -> str:
    """Migrate the database at ``url`` (default as ``init_db``) to head; return the revision."""
    resolved = resolve_database_url(url)
    engine = create_sublarr_engine(resolved)
    try:
        return _run_upgrade(engine)
    except DatabaseError as exc:
        raise _storage_error(resolved, exc) from exc
    finally:
        engine.dispose()


def current_revision(url: str | URL | None = None) -> str | None:
    """The Alembic revision the database at ``url`` is at; ``None`` when not migrated or absent.

    A SQLite file that does not exist is not created.
    """
    from alembic.runtime.migration import MigrationContext

    resolved = resolve_database_url(url, create_dir=False)
    if (
        resolved.get_backend_name() == "sqlite"
        and not _is_sqlite_memory(resolved)
        and not Path(str(resolved.database)).expanduser().exists()
    ):
        return None
    engine = create_sublarr_engine(resolved)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except DatabaseError as exc:
        raise _storage_error(resolved, exc) from exc
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest revision shipped with this version of sublarr."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(make_url("sqlite://")))
    head = script.get_current_head()
    assert head is not None, f"no migrations found in {MIGRATIONS_DIR}"
    return head
