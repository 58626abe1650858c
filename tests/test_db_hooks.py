"""sublarr.core.db.hooks on real SQLite files: CRUD, validation, the log, atomic trigger stats."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect

from sublarr.core import NotFoundError, ValidationError
from sublarr.core.db import get_engine, session_scope
from sublarr.core.db.hooks import (
    clear_hook_logs,
    clear_old_hook_logs,
    create_hook_config,
    create_webhook_config,
    delete_hook_config,
    delete_webhook_config,
    get_hook_config,
    get_hook_configs,
    get_hook_log_count,
    get_hook_logs,
    get_webhook_config,
    get_webhook_configs,
    log_hook_execution,
    update_hook_config,
    update_hook_trigger_stats,
    update_webhook_config,
    update_webhook_trigger_stats,
)
from sublarr.core.db.models import Base, HookLog
from sublarr.core.events.catalog import register_event, reset_catalog

from conftest import run_threads, table_rows

pytestmark = pytest.mark.usefixtures("any_db")  # each test on SQLite and on PostgreSQL


def test_plan_task2_verify_snippet(any_db):
    """The plan's verify snippet, with sublarr.core.db import paths."""
    tables = inspect(get_engine()).get_table_names()
    for t in ["hook_configs", "webhook_configs", "hook_log", "scoring_weights", "provider_score_modifiers"]:
        assert t in tables, f"Missing table: {t}"

    from sublarr.core.db.scoring import (
        get_provider_modifier,
        get_scoring_weights,
        set_provider_modifier,
        set_scoring_weights,
    )

    h = create_hook_config("test", "subtitle_downloaded", "/tmp/test.sh")
    assert h["name"] == "test"
    w = create_webhook_config("test-wh", "translation_complete", "https://example.com/hook")
    assert w["url"] == "https://example.com/hook"
    set_scoring_weights("episode", {"hash": 400})
    weights = get_scoring_weights("episode")
    assert weights.get("hash") == 400
    set_provider_modifier("opensubtitles", -20)
    assert get_provider_modifier("opensubtitles") == -20


# ---- hooks ---------------------------------------------------------------------------------


def test_create_hook_returns_the_full_stored_record():
    hook = create_hook_config("  Notify  ", "subtitle_downloaded", "notify.sh", timeout_seconds=45)
    assert hook == get_hook_config(hook["id"])
    assert hook["name"] == "Notify"  # stored stripped
    assert hook["enabled"] is True and hook["hook_type"] == "script"
    assert (hook["timeout_seconds"], hook["trigger_count"], hook["last_status"]) == (45, 0, "")
    assert hook["created_at"] == hook["updated_at"]
    assert datetime.fromisoformat(hook["created_at"]).tzinfo == timezone.utc
    assert set(hook) == {c.name for c in Base.metadata.tables["hook_configs"].columns}


def test_list_hooks_by_event_enabled_and_page():
    a = create_hook_config("a", "subtitle_downloaded", "a.sh")
    b = create_hook_config("b", "batch_complete", "b.sh")
    c = create_hook_config("c", "subtitle_downloaded", "c.sh")
    update_hook_config(c["id"], enabled=False)
    assert [h["id"] for h in get_hook_configs()] == [a["id"], b["id"], c["id"]]
    assert [h["id"] for h in get_hook_configs("subtitle_downloaded")] == [a["id"], c["id"]]
    assert [h["id"] for h in get_hook_configs("subtitle_downloaded", enabled_only=True)] == [a["id"]]
    assert [h["id"] for h in get_hook_configs(enabled_only=True)] == [a["id"], b["id"]]
    assert [h["id"] for h in get_hook_configs(limit=1, offset=1)] == [b["id"]]
    assert [h["id"] for h in get_hook_configs(offset=2)] == [c["id"]]
    assert get_hook_configs("no_such_event") == []


def test_update_hook_changes_only_the_given_fields():
    hook = create_hook_config("a", "subtitle_downloaded", "a.sh")
    update_hook_config(
        hook["id"], name="b", event_name="batch_complete", script_path="b.sh", timeout_seconds=3600, enabled=0
    )
    got = get_hook_config(hook["id"])
    assert (got["name"], got["event_name"], got["script_path"], got["timeout_seconds"], got["enabled"]) == (
        "b", "batch_complete", "b.sh", 3600, False,
    )  # fmt: skip
    assert got["created_at"] == hook["created_at"] and got["updated_at"] >= hook["updated_at"]
    update_hook_config(hook["id"], enabled=True)
    assert get_hook_config(hook["id"])["enabled"] is True


def test_delete_hook_and_missing_ids():
    hook = create_hook_config("a", "subtitle_downloaded", "a.sh")
    delete_hook_config(hook["id"])
    assert get_hook_config(hook["id"]) is None
    with pytest.raises(NotFoundError):
        delete_hook_config(hook["id"])
    with pytest.raises(NotFoundError):
        update_hook_config(hook["id"], name="x")
    with pytest.raises(NotFoundError):
        update_hook_trigger_stats(hook["id"], True)
    assert table_rows()["hook_configs"] == []


def test_plugin_events_are_accepted_while_registered():
    register_event("myplugin.thing_happened", "Thing", "A thing.", ["what"])
    try:
        hook = create_hook_config("p", "myplugin.thing_happened", "p.sh")
        assert hook["event_name"] == "myplugin.thing_happened"
    finally:
        reset_catalog()
    with pytest.raises(ValidationError, match="unknown event 'myplugin.thing_happened'"):
        create_hook_config("p2", "myplugin.thing_happened", "p.sh")


GOOD_HOOK = {"name": "n", "event_name": "batch_complete", "script_path": "s.sh", "timeout_seconds": 30}
BAD_HOOKS = [
    ("name", ""),
    ("name", "   "),
    ("name", "x" * 201),
    ("name", None),
    ("name", "two\nlines"),
    ("event_name", "no_such_event"),
    ("event_name", "*"),  # only webhooks may subscribe to every event
    ("event_name", 3),
    ("script_path", ""),
    ("script_path", 42),
    ("script_path", "a\x00b"),
    ("timeout_seconds", 0),
    ("timeout_seconds", 3601),
    ("timeout_seconds", True),
    ("timeout_seconds", "30"),
    ("timeout_seconds", 30.0),
]


@pytest.mark.parametrize(
    ("fields", "culprit"),
    [
        ({"trigger_count": 5}, "trigger_count"),
        ({"id": 9}, "id"),
        ({"created_at": "x"}, "created_at"),
        ({"hook_type": "webhook"}, "hook_type"),
        ({"name": "ok", "url": "https://x"}, "url"),
        ({"enabled": 2}, "enabled"),
        ({"enabled": "yes"}, "enabled"),
        ({"enabled": None}, "enabled"),
    ],
)
def test_update_hook_refuses_unknown_fields_and_bad_flags(fields, culprit):
    hook = create_hook_config("keep", "subtitle_downloaded", "keep.sh")
    before = table_rows()
    with pytest.raises(ValidationError) as error:
        update_hook_config(hook["id"], **fields)
    assert error.value.field == culprit
    assert table_rows() == before


@pytest.mark.parametrize("bad_id", [0, -1, True, "1", None, 1.0])
def test_bad_ids_are_refused(bad_id):
    with pytest.raises(ValidationError):
        get_hook_config(bad_id)
    with pytest.raises(ValidationError):
        delete_webhook_config(bad_id)
    with pytest.raises(ValidationError):
        update_webhook_trigger_stats(bad_id, True)


# ---- webhooks ------------------------------------------------------------------------------


def test_create_webhook_returns_the_full_stored_record():
    hook = create_webhook_config(
        "wh", "*", "http://127.0.0.1:8080/in", secret="s", retry_count=0, timeout_seconds=300
    )
    assert hook == get_webhook_config(hook["id"])
    assert (hook["event_name"], hook["secret"], hook["retry_count"], hook["timeout_seconds"]) == (
        "*",
        "s",
        0,
        300,
    )
    assert (hook["enabled"], hook["consecutive_failures"], hook["last_status_code"]) == (True, 0, 0)
    assert set(hook) == {c.name for c in Base.metadata.tables["webhook_configs"].columns}


def test_webhooks_for_an_event_include_those_for_every_event():
    one = create_webhook_config("one", "subtitle_downloaded", "https://a.example/x")
    every = create_webhook_config("every", "*", "https://b.example/x")
    other = create_webhook_config("other", "batch_complete", "https://c.example/x")
    off = create_webhook_config("off", "*", "https://d.example/x")
    update_webhook_config(off["id"], enabled=False)
    assert [w["id"] for w in get_webhook_configs("subtitle_downloaded")] == [
        one["id"],
        every["id"],
        off["id"],
    ]
    assert [w["id"] for w in get_webhook_configs("subtitle_downloaded", enabled_only=True)] == [
        one["id"],
        every["id"],
    ]
    assert [w["id"] for w in get_webhook_configs("batch_complete", limit=1, offset=1)] == [other["id"]]
    assert len(get_webhook_configs()) == 4


def test_update_webhook_fields():
    hook = create_webhook_config("wh", "batch_complete", "https://a.example/x")
    update_webhook_config(
        hook["id"], name="new", event_name="*", url="http://b.example:81/y?z=1", secret="k",
        enabled=False, retry_count=10, timeout_seconds=1,
    )  # fmt: skip
    got = get_webhook_config(hook["id"])
    assert (got["name"], got["event_name"], got["url"], got["secret"]) == (
        "new",
        "*",
        "http://b.example:81/y?z=1",
        "k",
    )
    assert (got["enabled"], got["retry_count"], got["timeout_seconds"]) == (False, 10, 1)
    delete_webhook_config(hook["id"])
    assert get_webhook_config(hook["id"]) is None
    with pytest.raises(NotFoundError):
        update_webhook_config(hook["id"], name="x")


GOOD_WEBHOOK = {"name": "n", "event_name": "batch_complete", "url": "https://example.com/h"}
BAD_WEBHOOKS = [
    ("name", ""),
    ("name", "y" * 201),
    ("event_name", "nope"),
    ("event_name", ""),
    ("url", "ftp://example.com/x"),
    ("url", "file:///etc/passwd"),
    ("url", "javascript:alert(1)"),
    ("url", "example.com/hook"),
    ("url", "https://"),
    ("url", "http:///path-only"),
    ("url", "https://exa mple.com"),
    ("url", "https://example.com:99999/"),
    ("url", ""),
    ("url", None),
    ("secret", None),
    ("secret", 5),
    ("retry_count", -1),
    ("retry_count", 11),
    ("retry_count", False),
    ("timeout_seconds", 0),
    ("timeout_seconds", 301),
    ("timeout_seconds", True),
]


# kind -> (create, update, a good record, the record already stored)
CRUD = {
    "hook": (create_hook_config, update_hook_config, GOOD_HOOK, ("keep", "subtitle_downloaded", "keep.sh")),
    "webhook": (
        create_webhook_config,
        update_webhook_config,
        GOOD_WEBHOOK,
        ("keep", "*", "https://keep.example/"),
    ),
}


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [("hook", *bad) for bad in BAD_HOOKS] + [("webhook", *bad) for bad in BAD_WEBHOOKS],
)
def test_bad_input_is_refused_and_nothing_is_written(kind, field, value):
    create, update, good, keep = CRUD[kind]
    existing = create(*keep)
    before = table_rows()
    with pytest.raises(ValidationError) as create_error:
        create(**{**good, field: value})
    assert create_error.value.field == field
    with pytest.raises(ValidationError) as update_error:
        update(existing["id"], **{field: value})
    assert update_error.value.field == field
    assert field in str(update_error.value)
    assert table_rows() == before


def test_update_webhook_refuses_fields_that_are_not_updatable():
    hook = create_webhook_config("keep", "*", "https://keep.example/")
    before = table_rows()
    for field in ("trigger_count", "consecutive_failures", "script_path", "last_error", "bogus"):
        with pytest.raises(ValidationError) as error:
            update_webhook_config(hook["id"], **{field: 1})
        assert error.value.field == field and "updatable" in error.value.reason
    # one bad field among good ones: nothing of it is written
    with pytest.raises(ValidationError):
        update_webhook_config(hook["id"], name="changed", retry_count=99)
    assert table_rows() == before


# ---- execution log -------------------------------------------------------------------------


def test_log_records_are_returned_newest_first_and_filtered():
    hook = create_hook_config("h", "batch_complete", "h.sh")
    webhook = create_webhook_config("w", "*", "https://example.com/")
    first = log_hook_execution(
        hook_id=hook["id"], event_name="batch_complete", hook_type="script", success=True,
        exit_code=0, stdout="out", stderr="err", duration_ms=12.5,
    )  # fmt: skip
    second = log_hook_execution(
        webhook_id=webhook["id"], event_name="batch_complete", hook_type="webhook", success=False,
        status_code=503, error="unavailable", duration_ms=3,
    )  # fmt: skip
    third = log_hook_execution(hook_id=hook["id"], event_name="batch_complete", hook_type="script")
    assert first["success"] is True and first["exit_code"] == 0 and first["duration_ms"] == 12.5
    assert second["success"] is False and second["status_code"] == 503
    assert third["success"] is False and third["stdout"] == ""

    assert [r["id"] for r in get_hook_logs()] == [third["id"], second["id"], first["id"]]
    assert get_hook_logs()[2] == first
    assert [r["id"] for r in get_hook_logs(hook_id=hook["id"])] == [third["id"], first["id"]]
    assert [r["id"] for r in get_hook_logs(webhook_id=webhook["id"])] == [second["id"]]
    assert [r["id"] for r in get_hook_logs(limit=1, offset=1)] == [second["id"]]
    assert get_hook_logs(limit=0) == []
    assert (get_hook_log_count(), get_hook_log_count(hook_id=hook["id"])) == (3, 2)
    assert get_hook_log_count(webhook_id=webhook["id"]) == 1
    assert get_hook_log_count(hook_id=hook["id"], webhook_id=webhook["id"]) == 0


def test_logs_survive_deleting_their_hook_until_cleared():
    hook = create_hook_config("h", "batch_complete", "h.sh")
    other = create_hook_config("o", "batch_complete", "o.sh")
    for _ in range(3):
        log_hook_execution(hook_id=hook["id"], event_name="batch_complete", hook_type="script", success=True)
    log_hook_execution(hook_id=other["id"], event_name="batch_complete", hook_type="script", success=True)
    delete_hook_config(hook["id"])
    assert get_hook_log_count(hook_id=hook["id"]) == 3
    assert clear_hook_logs(hook_id=hook["id"]) == 3
    assert get_hook_log_count() == 1
    assert clear_hook_logs() == 1
    assert clear_hook_logs() == 0


def test_clear_old_logs_deletes_only_older_records():
    now = datetime.now(timezone.utc)
    with session_scope() as session:
        for age_days in (40, 31, 29, 0):
            stamp = (now - timedelta(days=age_days)).isoformat(timespec="microseconds")
            session.add(HookLog(event_name=f"e{age_days}", hook_type="script", success=1, triggered_at=stamp))
    assert [r["event_name"] for r in get_hook_logs()] == ["e0", "e29", "e31", "e40"]
    assert clear_old_hook_logs(30) == 2
    assert [r["event_name"] for r in get_hook_logs()] == ["e0", "e29"]
    assert clear_old_hook_logs(30) == 0
    assert clear_old_hook_logs(0) == 2


def test_long_output_is_stored_truncated():
    from sublarr.core.db.hooks import MAX_OUTPUT_CHARS

    record = log_hook_execution(event_name="e", hook_type="script", stdout="x" * (MAX_OUTPUT_CHARS + 10))
    assert len(record["stdout"]) == MAX_OUTPUT_CHARS
    assert len(get_hook_logs()[0]["stdout"]) == MAX_OUTPUT_CHARS


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"hook_id": 0}, "hook_id"),
        ({"webhook_id": "3"}, "webhook_id"),
        ({"success": "yes"}, "success"),
        ({"exit_code": 1.5}, "exit_code"),
        ({"status_code": 1000}, "status_code"),
        ({"status_code": True}, "status_code"),
        ({"stdout": None}, "stdout"),
        ({"error": b"bytes"}, "error"),
        ({"event_name": None}, "event_name"),
        ({"hook_type": "Not A Word"}, "hook_type"),
        ({"duration_ms": -1}, "duration_ms"),
        ({"duration_ms": float("nan")}, "duration_ms"),
        ({"duration_ms": True}, "duration_ms"),
    ],
)
def test_bad_log_input_is_refused(kwargs, field):
    before = table_rows()
    with pytest.raises(ValidationError) as error:
        log_hook_execution(**{"event_name": "e", "hook_type": "script", **kwargs})
    assert error.value.field == field
    assert table_rows() == before


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: get_hook_logs(limit=-1), "limit"),
        (lambda: get_hook_logs(limit=None), "limit"),
        (lambda: get_hook_logs(offset=-5), "offset"),
        (lambda: get_hook_configs(limit=True), "limit"),
        (lambda: get_webhook_configs(enabled_only="yes"), "enabled_only"),
        (lambda: clear_old_hook_logs(-1), "days"),
        (lambda: clear_old_hook_logs(1.5), "days"),
        (lambda: clear_hook_logs(hook_id="1"), "hook_id"),
    ],
)
def test_bad_listing_arguments_are_refused(call, field):
    log_hook_execution(event_name="e", hook_type="script")
    before = table_rows()
    with pytest.raises(ValidationError) as error:
        call()
    assert error.value.field == field
    assert table_rows() == before


# ---- trigger statistics --------------------------------------------------------------------


def test_hook_trigger_stats():
    hook = create_hook_config("h", "batch_complete", "h.sh")
    update_hook_trigger_stats(hook["id"], True)
    got = get_hook_config(hook["id"])
    assert (got["trigger_count"], got["last_status"]) == (1, "success")
    assert got["last_triggered_at"] > hook["created_at"]
    assert got["updated_at"] == hook["updated_at"]  # a run is not a configuration edit
    update_hook_trigger_stats(hook["id"], False)
    got = get_hook_config(hook["id"])
    assert (got["trigger_count"], got["last_status"]) == (2, "failed")
    with pytest.raises(ValidationError):
        update_hook_trigger_stats(hook["id"], "ok")
    assert get_hook_config(hook["id"])["trigger_count"] == 2


def test_webhook_trigger_stats_track_consecutive_failures():
    hook = create_webhook_config("w", "*", "https://example.com/")
    update_webhook_trigger_stats(hook["id"], False, status_code=500, error="server error")
    update_webhook_trigger_stats(hook["id"], False, error="timeout")
    got = get_webhook_config(hook["id"])
    assert (got["trigger_count"], got["consecutive_failures"]) == (2, 2)
    assert (got["last_status_code"], got["last_error"]) == (0, "timeout")
    update_webhook_trigger_stats(hook["id"], True, status_code=204)
    got = get_webhook_config(hook["id"])
    assert (got["trigger_count"], got["consecutive_failures"]) == (3, 0)
    assert (got["last_status_code"], got["last_error"]) == (204, "")
    before = table_rows()
    for bad in ({"status_code": -1}, {"status_code": "200"}, {"error": None}):
        with pytest.raises(ValidationError):
            update_webhook_trigger_stats(hook["id"], False, **bad)
    assert table_rows() == before


def test_trigger_counts_are_exact_under_8_threads_on_a_sqlite_file_and_postgresql(any_db):
    assert any_db.startswith(("sqlite:///", "postgresql")) and ":memory:" not in any_db
    hook = create_hook_config("h", "batch_complete", "h.sh")
    webhook = create_webhook_config("w", "*", "https://example.com/")
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        for i in range(50):
            update_hook_trigger_stats(hook["id"], i % 2 == 0)
            update_webhook_trigger_stats(webhook["id"], False, status_code=500, error="down")

    assert run_threads(8, work) == []
    assert get_hook_config(hook["id"])["trigger_count"] == 400
    got = get_webhook_config(webhook["id"])
    assert (got["trigger_count"], got["consecutive_failures"]) == (400, 400)
