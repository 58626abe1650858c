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
* ``database_file_problem()`` - ``None``, or why the embedded SQLite file ``init_db``
  opened cannot be relied on any more: it was deleted or replaced (its device and inode
  changed) while sublarr runs. From then on every commit and every new connection of the
  engine raises ``DatabaseFileLostError``, a ``StorageError`` (the REST API answers 503, ``/api/v1/health`` is
  degraded; no empty file is made in its place): sublarr's connections would keep writing
  to the deleted file, and the data would be gone at the next start. It clears if the
  same file comes back; otherwise restart sublarr.
* ``upgrade_db(url=None)`` / ``current_revision(url=None)`` / ``head_revision()`` -
  what ``sublarr db upgrade`` and ``sublarr db current`` run.

Any SQLAlchemy URL works; ``postgresql+psycopg://user:pass@host/db`` needs the ``postgres``
extra. PostgreSQL cannot store a NUL character in text: a statement given one raises
``ValidationError`` (the REST API's 422), not a driver error; text sublarr stores for
itself (script output, receivers' answers) has its NULs replaced first
(``sublarr.core.db.hooks.storable_text``). SQLite connections get WAL journaling,
``foreign_keys=ON`` and a busy timeout of ``SQLITE_BUSY_TIMEOUT_MS``, so many threads can
read while one writes. All functions are thread-safe. Migrations ship inside the package
(``sublarr/core/db/migrations``): no ``alembic.ini`` is needed.
"""

from __future__ import annotations

import logging
import os
import sys
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

from sublarr.core.errors import DatabaseFileLostError, StorageError, ValidationError

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
_database_file: DatabaseFile | None = None


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


def _refuse_nul_text(context: Any) -> None:
    """A ``handle_error`` listener: PostgreSQL's refusal of a NUL character becomes ``ValidationError``."""
    if "NUL (0x00)" in str(context.original_exception):
        raise ValidationError(
            None, "text must not contain NUL (\\0) characters"
        ) from context.original_exception


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
    elif url.get_backend_name() == "postgresql":
        event.listen(engine, "handle_error", _refuse_nul_text)
    return engine


class DatabaseFile:
    """The embedded SQLite file an engine opened, known by identity (device, inode).

    ``check`` runs before every commit and before every new connection of that engine is
    opened (SQLite would otherwise create an empty file where the deleted one was).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        status = os.stat(path)
        self.identity = (status.st_dev, status.st_ino)
        self._lost = False
        self._lock = threading.Lock()

    @classmethod
    def of(cls, url: URL) -> DatabaseFile | None:
        """The file of a SQLite ``url``; ``None`` for other databases, memory and ``file:`` URIs."""
        if (
            url.get_backend_name() != "sqlite"
            or _is_sqlite_memory(url)
            or str(url.database).startswith("file:")
        ):
            return None
        try:
            return cls(Path(str(url.database)).expanduser())
        except OSError:
            return None

    def problem(self) -> str | None:
        """Why the file cannot be relied on (deleted or replaced), or ``None``."""
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            what = "deleted"
        except OSError as exc:
            what = f"made unreachable ({exc.strerror or exc})"
        else:
            if (status.st_dev, status.st_ino) == self.identity:
                if self._lost:
                    self._noted(False, "")
                return None
            what = "replaced by another file"
        if not self._lost:
            self._noted(True, what)
        return (
            f"the database file was {what} while sublarr runs: writes are refused, "
            "as they would be lost; restart sublarr"
        )

    def _noted(self, lost: bool, what: str) -> None:
        with self._lock:
            if self._lost == lost:
                return
            self._lost = lost
        if lost:
            logger.error(
                "the database file %s was %s while sublarr runs: every write is refused until "
                "sublarr is restarted",
                self.path,
                what,
            )
        else:
            logger.warning("the database file %s is back; writes are accepted again", self.path)

    def check(self, *_args: Any) -> None:
        """Raise ``DatabaseFileLostError`` if the file was deleted or replaced (an engine listener)."""
        problem = self.problem()
        if problem is not None:
            raise DatabaseFileLostError(problem)


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
    global _engine, _session_factory, _engine_url, _database_file
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
        _database_file = DatabaseFile.of(resolved)
        if _database_file is not None:
            event.listen(engine, "commit", _database_file.check)
            # Before connecting: SQLite would create an empty file in place of a deleted one.
            event.listen(engine, "do_connect", _database_file.check)
        _engine = engine
        _engine_url = key
        _session_factory = sessionmaker(bind=engine, expire_on_commit=False)
        _forget_database_state()
        logger.info(
            "database %s ready at revision %s", resolved.render_as_string(hide_password=True), revision
        )
        return engine


def database_file_problem() -> str | None:
    """Why the current engine's SQLite file cannot be relied on (deleted, replaced), or ``None``.

    ``None`` too for PostgreSQL, in-memory databases and before ``init_db``.
    """
    database_file = _database_file
    return database_file.problem() if database_file is not None else None


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
    global _engine, _session_factory, _engine_url, _database_file
    engine = _engine
    _database_file = None
    _engine = None
    _session_factory = None
    _engine_url = None
    if engine is not None:
        engine.dispose()
    _forget_database_state()


def _forget_database_state() -> None:
    """Scoring caches and the queue's write status are of the previous database: drop them."""
    from sublarr.core.scoring.cache import invalidate_scoring_cache

    invalidate_scoring_cache()
    store = sys.modules.get("sublarr.core.delivery.store")  # never imported: nothing to forget
    if store is not None:
        store.queue_status.reset()


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
