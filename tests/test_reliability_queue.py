"""An accepted event's deliveries are stored, or the emit fails (issue 9).

When the delivery queue cannot be written - a full disk (a real tmpfs where the test may
mount one), a SQLite file at its size limit (``PRAGMA max_page_count``), a truncated,
"malformed" database file - ``POST /api/v1/events/{name}/emit`` answers 503 and
``emit_event`` raises ``EventNotStoredError``, ``/api/v1/health`` is degraded with the
reason, and both recover by themselves once storage does. Every event answered 202 has its
deliveries in the queue and reaches the real webhook receiver.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text

from sublarr.core.testing.pytest_plugin import ONLY_BUILTINS

EMIT = "/api/v1/events/batch_complete/emit"
BIG = "x" * 20_000  # a payload that needs new pages (or WAL frames) to store


@dataclass
class Served:
    """A sublarr Flask app on ``data_dir`` with a test client sending the API key."""

    app: Any
    client: Any
    data_dir: Path

    @property
    def db(self) -> Path:
        return self.data_dir / "sublarr.db"


def _serve(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Served:
    from sublarr.core.db import dispose_db
    from sublarr.core.web.app_factory import create_app

    dispose_db()
    url = f"sqlite:///{data_dir / 'sublarr.db'}"
    monkeypatch.setenv("SUBLARR_DATABASE_URL", url)
    app = create_app(
        {"TESTING": True, "SUBLARR_DATA_DIR": str(data_dir), "SUBLARR_DATABASE_URL": url, **ONLY_BUILTINS}
    )
    client = app.test_client()
    client.environ_base["HTTP_X_API_KEY"] = app.extensions["sublarr.api_key"].value
    return Served(app, client, data_dir)


@pytest.fixture
def served(plugin_manager, tmp_path, monkeypatch) -> Iterator[Served]:
    yield _serve(tmp_path / "data", monkeypatch)


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 2 MiB tmpfs mounted for the test (skipped where mounting is not allowed)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("FULL-DISK VARIANT NOT TESTED: no mount command (the max_page_count variant still runs)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(
            "FULL-DISK VARIANT NOT TESTED: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN: "
            f"{done.stderr.strip()}); the max_page_count variant still runs"
        )
    try:
        yield mount_point
    finally:
        from sublarr.core.db import dispose_db

        dispose_db()
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(directory: Path) -> Path:
    """Fill the file system of ``directory`` to the last byte; return the filler file."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for block in (b"\0" * 65536, b"\0" * 512, b"\0"):
            try:
                while True:
                    os.write(fd, block)
            except OSError as exc:
                assert exc.errno == 28, exc  # ENOSPC
    finally:
        os.close(fd)
    return filler


def _webhook(served: Served, url: str) -> dict:
    created = served.client.post(
        "/api/v1/webhooks", json={"name": "r", "event_name": "batch_complete", "url": url}
    )
    assert created.status_code == 201, created.json
    return created.json


def _queued_event_ids() -> set[str]:
    from sublarr.core.db import get_engine
    from sublarr.core.db.models import Delivery

    with get_engine().connect() as conn:
        return set(conn.execute(select(Delivery.event_id)).scalars())


def _outage(served: Served, break_storage: Callable[[], None], mend_storage: Callable[[], None], reason: str):
    """Emit through the API before, during and after an outage; return (accepted, refused).

    ``accepted`` maps the event id of every 202 to its ``batch_id``; ``refused`` holds the 503 bodies.
    """
    accepted: dict[str, str] = {}
    refused: list[dict] = []
    for n in range(3):
        answer = served.client.post(EMIT, json={"batch_id": f"before-{n}", "batch_type": BIG})
        assert answer.status_code == 202, answer.json
        accepted[answer.json["event_id"]] = f"before-{n}"
    assert served.client.get("/api/v1/health").json["status"] == "ok"

    break_storage()
    for n in range(50):  # WAL space already allocated may take a few more; never a lost one
        answer = served.client.post(EMIT, json={"batch_id": f"during-{n}", "batch_type": BIG})
        if answer.status_code == 202:
            assert not refused, "an emit was accepted again while storage was still broken"
            accepted[answer.json["event_id"]] = f"during-{n}"
            continue
        assert answer.status_code == 503, answer.json
        refused.append(answer.json)
    assert len(refused) >= 40, f"only {len(refused)} of 50 emits were refused"
    body = refused[0]
    assert body["error"] == "unavailable"
    assert "was not stored" in body["detail"] and reason in body["detail"], body
    health = served.client.get("/api/v1/health")
    assert health.status_code == 503
    assert health.json["status"] == "degraded"
    assert health.json["checks"]["database"].startswith("failing: ")
    assert reason in health.json["checks"]["database"], health.json

    mend_storage()
    # Health recovers by itself (its probe writes), before any event is emitted again.
    health = served.client.get("/api/v1/health")
    assert (health.status_code, health.json) == (200, {"status": "ok", "checks": {"database": "ok"}})
    for n in range(3):
        answer = served.client.post(EMIT, json={"batch_id": f"after-{n}", "batch_type": BIG})
        assert answer.status_code == 202, answer.json
        accepted[answer.json["event_id"]] = f"after-{n}"
    return accepted, refused


def _assert_nothing_accepted_is_lost(
    accepted: dict[str, str], refused: list[dict], receiver, delivery_pool
) -> None:
    queued = _queued_event_ids()
    assert set(accepted) <= queued, f"202 answered but not queued: {set(accepted) - queued}"
    refused_ids = {body["detail"].split("(")[1].split(")")[0] for body in refused}
    assert len(refused_ids) == len(refused) and not refused_ids & queued
    delivery_pool(SUBLARR_DELIVERY_POLL_INTERVAL="0.1")
    requests = receiver.wait_for(len(accepted), timeout=20)
    delivered = sorted(r.json["data"]["batch_id"] for r in requests)
    assert delivered == sorted(accepted.values())  # each accepted event once, no refused one


def test_a_full_disk_refuses_emits_and_recovers(
    plugin_manager, small_disk, monkeypatch, webhook_receiver, delivery_pool
):
    served = _serve(small_disk / "data", monkeypatch)
    _webhook(served, webhook_receiver.url)
    filler: list[Path] = []
    accepted, refused = _outage(
        served,
        lambda: filler.append(_fill(small_disk)),
        lambda: filler[0].unlink(),
        "database or disk is full",
    )
    _assert_nothing_accepted_is_lost(accepted, refused, webhook_receiver, delivery_pool)


def test_a_database_at_its_size_limit_refuses_emits_and_recovers(served, webhook_receiver, delivery_pool):
    from sublarr.core.db import get_engine

    _webhook(served, webhook_receiver.url)
    engine = get_engine()
    limit: list[int] = []  # max_page_count is per connection: set on every checkout

    def cap(dbapi_connection, _record, _proxy) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {limit[0] if limit else 1073741823}")

    event.listen(engine, "checkout", cap)
    try:

        def fill() -> None:
            with engine.connect() as conn:
                limit.append(conn.execute(text("PRAGMA page_count")).scalar())

        accepted, refused = _outage(served, fill, limit.clear, "database or disk is full")
    finally:
        event.remove(engine, "checkout", cap)
    _assert_nothing_accepted_is_lost(accepted, refused, webhook_receiver, delivery_pool)


def test_a_truncated_database_refuses_emits_and_recovers(served, webhook_receiver, delivery_pool):
    from sublarr.core.db import get_engine

    _webhook(served, webhook_receiver.url)
    engine = get_engine()
    saved: list[bytes] = []

    def truncate() -> None:
        with engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            root = conn.execute(text("SELECT rootpage FROM sqlite_master WHERE name = 'deliveries'")).scalar()
        saved.append(served.db.read_bytes())
        with open(served.db, "r+b") as file:  # the queue's pages are cut off: "malformed"
            file.truncate((root - 1) * 4096)
        engine.dispose()  # connections opened from now on see the damaged file (as after a restart)

    def restore() -> None:
        served.db.write_bytes(saved[0])

    accepted, refused = _outage(served, truncate, restore, "the database file is damaged (malformed)")
    _assert_nothing_accepted_is_lost(accepted, refused, webhook_receiver, delivery_pool)


def test_emit_event_raises_after_every_receiver_and_plugin_saw_the_event(
    served, event_recorder, register_plugin, webhook_receiver
):
    from sublarr.core import emit_event
    from sublarr.core.db import get_engine
    from sublarr.core.errors import EventNotStoredError, StorageError
    from sublarr.core.hookspecs import hookimpl

    _webhook(served, webhook_receiver.url)
    seen_after: list[str] = []

    class Later:  # called after the built-in webhooks plugin
        @hookimpl(trylast=True)
        def on_event(self, event_name: str, event_id: str) -> None:
            seen_after.append(event_id)

    register_plugin(Later(), name="later")
    key = served.app.extensions["sublarr.api_key"].value
    socket_client = served.app.extensions["socketio"].test_client(served.app, auth={"apikey": key})
    engine = get_engine()

    def full(dbapi_connection, _record, _proxy) -> None:
        dbapi_connection.execute("PRAGMA max_page_count = 1")  # = the pages it has: no room for BIG

    event.listen(engine, "checkout", full)
    try:
        with pytest.raises(EventNotStoredError) as raised:
            emit_event("batch_complete", {"batch_id": "lost", "batch_type": BIG})
    finally:
        event.remove(engine, "checkout", full)
        engine.dispose()  # the pragma stays on pooled connections
    error = raised.value
    assert isinstance(error, StorageError)
    assert error.event_name == "batch_complete" and error.reason == "database or disk is full"
    assert seen_after == [error.event_id]  # the other plugins still got it
    assert event_recorder.last("batch_complete").event_id == error.event_id
    assert [m["name"] for m in socket_client.get_received()] == ["batch_complete"]  # and Socket.IO clients
    assert error.event_id not in _queued_event_ids()
    assert plugin_manager_errors(served) == {"webhooks": 1}

    assert emit_event("batch_complete", {"batch_id": "kept"}) in _queued_event_ids()


def plugin_manager_errors(served: Served) -> dict[str, int]:
    from sublarr.core.plugin_manager import get_plugin_manager

    return {name: count for name, count in get_plugin_manager().error_counts.items() if count}


def test_an_event_nobody_subscribed_to_needs_no_storage(served, event_recorder):
    from sublarr.core import emit_event
    from sublarr.core.db import get_engine

    engine = get_engine()

    def read_only(dbapi_connection, _record, _proxy) -> None:
        dbapi_connection.execute("PRAGMA query_only = 1")  # every write fails

    event.listen(engine, "checkout", read_only)
    try:
        emit_event("batch_complete", {"batch_id": "nobody listens"})  # no hook or webhook: nothing to store
    finally:
        event.remove(engine, "checkout", read_only)
        engine.dispose()  # the pragma stays on pooled connections
    assert event_recorder.last("batch_complete").payload["batch_id"] == "nobody listens"


def test_a_sonarr_call_whose_event_is_not_stored_is_a_503(served, webhook_receiver):
    from sublarr.core.db import get_engine

    created = served.client.post(
        "/api/v1/webhooks", json={"name": "r", "event_name": "webhook_received", "url": webhook_receiver.url}
    )
    assert created.status_code == 201
    engine = get_engine()

    def read_only(dbapi_connection, _record, _proxy) -> None:
        dbapi_connection.execute("PRAGMA query_only = 1")  # every write fails

    sonarr = {
        "eventType": "Download",
        "series": {"title": "Dark"},
        "episodes": [{"seasonNumber": 1, "episodeNumber": 1}],
    }
    event.listen(engine, "checkout", read_only)
    try:
        answer = served.client.post("/api/v1/webhook/sonarr", json=sonarr)
    finally:
        event.remove(engine, "checkout", read_only)
        engine.dispose()  # the pragma stays on pooled connections
    assert answer.status_code == 503, answer.json  # Sonarr retries a failed call
    assert answer.json["error"] == "unavailable" and answer.headers["Retry-After"] == "30"
    assert "(the database is read-only)" in answer.json["detail"]
    assert served.client.post("/api/v1/webhook/sonarr", json=sonarr).status_code == 200


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (OSError(28, "No space left on device"), "database or disk is full"),
        # PostgreSQL's words for a full disk, and a driver error that names a host
        (
            RuntimeError('could not extend file "base/1/2": No space left on device'),
            "database or disk is full",
        ),
        (
            RuntimeError('connection to server at "db.internal" (10.0.0.5) failed'),
            "RuntimeError; see the server log",
        ),
    ],
)
def test_storage_failures_are_named_by_kind_without_details(error, reason):
    from sublarr.core.delivery.store import describe_storage_failure
    from sublarr.core.errors import StorageError

    assert describe_storage_failure(error) == reason
    assert describe_storage_failure(StorageError("cannot open the database sqlite:////srv/x.db")) == (
        "the database cannot be opened; see the server log"
    )
