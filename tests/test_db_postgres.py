"""PostgreSQL works by URL alone: the same migrations and CRUD, nothing SQLite-only.

Runs when ``SUBLARR_TEST_POSTGRES_URL`` is set (e.g.
``postgresql+psycopg://user:pass@localhost/sublarr_test``) and the ``postgres`` extra is
installed. Each run works in a new schema it drops afterwards, so the database's other
content is left alone.
"""

from __future__ import annotations

import threading

import pytest

from conftest import upgrade_in_processes


def test_crud_round_trip_on_postgresql(postgres_url, event_recorder):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from sublarr.core import NotFoundError, ValidationError
    from sublarr.core.db import current_revision, get_engine, head_revision, init_db
    from sublarr.core.db import hooks as h
    from sublarr.core.db import scoring as s
    from sublarr.core.db.migrations import compare_server_default
    from sublarr.core.db.models import TABLE_NAMES, Base

    engine = init_db(postgres_url)
    assert engine.dialect.name == "postgresql"
    assert set(TABLE_NAMES) <= set(inspect(engine).get_table_names())
    assert current_revision(postgres_url) == head_revision()
    assert init_db(postgres_url) is engine
    with engine.connect() as conn:  # the migration made exactly what the models describe
        opts = {"compare_type": True, "compare_server_default": compare_server_default}
        assert compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata) == []

    hook = h.create_hook_config("test", "subtitle_downloaded", "/tmp/test.sh")
    assert hook == h.get_hook_config(hook["id"]) and hook["enabled"] is True
    h.update_hook_config(hook["id"], name="renamed", enabled=False, timeout_seconds=60)
    assert h.get_hook_config(hook["id"])["name"] == "renamed"
    assert h.get_hook_configs(enabled_only=True) == []

    one = h.create_webhook_config("one", "translation_complete", "https://example.com/hook", secret="k")
    every = h.create_webhook_config("every", "*", "http://127.0.0.1:9/x")
    assert [w["id"] for w in h.get_webhook_configs("translation_complete")] == [one["id"], every["id"]]
    with pytest.raises(ValidationError):
        h.update_webhook_config(one["id"], retry_count=11)

    log = h.log_hook_execution(hook_id=hook["id"], event_name="subtitle_downloaded", hook_type="script",
                               success=True, exit_code=0, duration_ms=1.25)  # fmt: skip
    h.log_hook_execution(webhook_id=one["id"], event_name="translation_complete", hook_type="webhook")
    assert log["duration_ms"] == 1.25
    assert [r["hook_type"] for r in h.get_hook_logs()] == ["webhook", "script"]
    assert h.get_hook_log_count(hook_id=hook["id"]) == 1
    assert h.clear_old_hook_logs(1) == 0
    assert h.clear_hook_logs(webhook_id=one["id"]) == 1

    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(25):
                h.update_hook_trigger_stats(hook["id"], True)
                h.update_webhook_trigger_stats(one["id"], False, 500, "down")
        except BaseException as exc:  # noqa: BLE001 - the thread's error is asserted by the test
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert h.get_hook_config(hook["id"])["trigger_count"] == 200
    assert h.get_webhook_config(one["id"])["consecutive_failures"] == 200

    s.set_scoring_weights("episode", {"hash": 400})
    s.set_scoring_weights("episode", {"hash": 401, "year": 2})
    assert s.get_scoring_weights("episode") == {"hash": 401, "year": 2}
    s.set_provider_modifier("opensubtitles", -20)
    s.set_provider_modifier("opensubtitles", -21)
    assert s.get_provider_modifier("opensubtitles") == -21
    event_recorder.assert_emitted("config_updated", section="provider_modifiers", keys=["opensubtitles"])
    s.replace_scoring_config({"movie": {"hash": 5}}, {"jimaku": 3})
    assert s.get_all_provider_modifiers() == {"jimaku": 3}
    assert s.get_scoring_weights("episode") == {} and s.get_scoring_weights("movie") == {"hash": 5}
    s.reset_scoring_weights()
    s.delete_provider_modifier("jimaku")

    h.delete_hook_config(hook["id"])
    with pytest.raises(NotFoundError):
        h.delete_hook_config(hook["id"])
    assert get_engine() is engine


def test_concurrent_upgrades_from_several_processes_wait_for_each_other(postgres_url):
    """Several web workers starting at once: one migrates, the others then find nothing to do."""
    from sublarr.core.db import current_revision, head_revision

    assert upgrade_in_processes(postgres_url, 3) == [head_revision()] * 3
    assert current_revision(postgres_url) == head_revision()
