"""The schema: Alembic migrations create the plan's five tables; models and migrations agree."""

from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from sublarr.core.db import dispose_db, head_revision, upgrade_db
from sublarr.core.db.migrations import compare_server_default
from sublarr.core.db.models import TABLE_NAMES, Base

# The plan's Task 2, column by column: (name, type, nullable, server default or None).
PLAN_COLUMNS = {
    "hook_configs": [
        ("id", "INTEGER", False, None),
        ("name", "TEXT", False, None),
        ("event_name", "TEXT", False, None),
        ("hook_type", "TEXT", True, "'script'"),
        ("enabled", "INTEGER", True, "1"),
        ("script_path", "TEXT", True, "''"),
        ("timeout_seconds", "INTEGER", True, "30"),
        ("last_triggered_at", "TEXT", True, "''"),
        ("last_status", "TEXT", True, "''"),
        ("trigger_count", "INTEGER", True, "0"),
        ("created_at", "TEXT", False, "CURRENT_TIMESTAMP"),
        ("updated_at", "TEXT", False, "CURRENT_TIMESTAMP"),
    ],
    "webhook_configs": [
        ("id", "INTEGER", False, None),
        ("name", "TEXT", False, None),
        ("event_name", "TEXT", False, None),
        ("url", "TEXT", False, None),
        ("secret", "TEXT", True, "''"),
        ("enabled", "INTEGER", True, "1"),
        ("retry_count", "INTEGER", True, "3"),
        ("timeout_seconds", "INTEGER", True, "10"),
        ("last_triggered_at", "TEXT", True, "''"),
        ("last_status_code", "INTEGER", True, "0"),
        ("last_error", "TEXT", True, "''"),
        ("consecutive_failures", "INTEGER", True, "0"),
        ("trigger_count", "INTEGER", True, "0"),
        ("created_at", "TEXT", False, "CURRENT_TIMESTAMP"),
        ("updated_at", "TEXT", False, "CURRENT_TIMESTAMP"),
    ],
    "hook_log": [
        ("id", "INTEGER", False, None),
        ("hook_id", "INTEGER", True, None),
        ("webhook_id", "INTEGER", True, None),
        ("event_name", "TEXT", False, None),
        ("hook_type", "TEXT", False, None),
        ("success", "INTEGER", False, None),
        ("exit_code", "INTEGER", True, "NULL"),
        ("status_code", "INTEGER", True, "NULL"),
        ("stdout", "TEXT", True, "''"),
        ("stderr", "TEXT", True, "''"),
        ("error", "TEXT", True, "''"),
        ("duration_ms", "REAL", True, "0"),
        ("triggered_at", "TEXT", False, "CURRENT_TIMESTAMP"),
    ],
    "scoring_weights": [
        ("id", "INTEGER", False, None),
        ("score_type", "TEXT", False, None),
        ("weight_key", "TEXT", False, None),
        ("weight_value", "INTEGER", False, None),
        ("updated_at", "TEXT", False, "CURRENT_TIMESTAMP"),
    ],
    "provider_score_modifiers": [
        ("provider_name", "TEXT", False, None),
        ("modifier", "INTEGER", False, "0"),
        ("updated_at", "TEXT", False, "CURRENT_TIMESTAMP"),
    ],
}
# Columns sublarr adds to the plan's tables, after the plan's own (nullable, so rows
# written as the plan says stay valid): see the migration that adds each.
ADDED_COLUMNS = {
    "hook_log": [("delivery_id", "TEXT", True, None)],  # 0003
}
ADDED_INDEXES = {"hook_log": [["delivery_id"], ["event_name", "id"], ["success", "id"]]}  # 0003, 0004
# The plan's indexes that sublarr widens (same name, the plan's column first): 0004 orders
# hook_id's and webhook_id's by id too, for cursor paging of one hook's or webhook's log.
WIDENED_INDEXES = {"hook_log": {("hook_id",): ["hook_id", "id"], ("webhook_id",): ["webhook_id", "id"]}}
PLAN_INDEXES = {
    "hook_configs": [["event_name"]],
    "webhook_configs": [["event_name"]],
    "hook_log": [["hook_id"], ["triggered_at"], ["webhook_id"]],
    "scoring_weights": [],
    "provider_score_modifiers": [],
}
PLAN_PRIMARY_KEYS = {
    "hook_configs": ["id"],
    "webhook_configs": ["id"],
    "hook_log": ["id"],
    "scoring_weights": ["id"],
    "provider_score_modifiers": ["provider_name"],
}


@pytest.fixture(autouse=True)
def _no_current_db():
    dispose_db()
    yield
    dispose_db()


@pytest.fixture
def migrated(tmp_path):
    """A SQLite file upgraded to head with `upgrade_db`, and an engine to inspect it."""
    path = tmp_path / "schema.db"
    assert upgrade_db(f"sqlite:///{path}") == head_revision()
    engine = create_engine(f"sqlite:///{path}")
    yield engine, path
    engine.dispose()


def test_the_plans_tables_come_from_the_first_revision():
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import make_url

    from sublarr.core.db.engine import _alembic_config

    script = ScriptDirectory.from_config(_alembic_config(make_url("sqlite://")))
    chain = [rev.revision for rev in script.walk_revisions("base", "heads")]
    assert chain[-1] == "0001" and chain[0] == head_revision()
    assert len(script.get_heads()) == 1  # one line of history, no unmerged branches


def test_upgrade_on_a_fresh_file_creates_the_five_tables(migrated):
    engine, _ = migrated
    tables = set(inspect(engine).get_table_names())
    assert set(TABLE_NAMES) <= tables
    assert tables == {*Base.metadata.tables, "alembic_version"}  # and nothing the models lack
    assert set(TABLE_NAMES) == set(PLAN_COLUMNS)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head_revision()


@pytest.mark.parametrize("table", list(PLAN_COLUMNS))
def test_columns_types_nullability_and_defaults_are_the_plans(migrated, table):
    engine, _ = migrated
    columns = inspect(engine).get_columns(table)
    got = [(c["name"], str(c["type"]), c["nullable"], c["default"]) for c in columns]
    assert got == PLAN_COLUMNS[table] + ADDED_COLUMNS.get(table, [])
    assert inspect(engine).get_pk_constraint(table)["constrained_columns"] == PLAN_PRIMARY_KEYS[table]


@pytest.mark.parametrize("table", list(PLAN_INDEXES))
def test_indexes_are_the_plans(migrated, table):
    engine, _ = migrated
    indexes = inspect(engine).get_indexes(table)
    widened = WIDENED_INDEXES.get(table, {})
    plan = [widened.get(tuple(columns), columns) for columns in PLAN_INDEXES[table]]
    assert sorted(i["column_names"] for i in indexes) == sorted(plan + ADDED_INDEXES.get(table, []))
    assert all(not i["unique"] for i in indexes)
    assert all(i["name"] == f"ix_{table}_{i['column_names'][0]}" for i in indexes)


def test_scoring_weights_is_unique_per_type_and_key(migrated):
    engine, path = migrated
    uniques = inspect(engine).get_unique_constraints("scoring_weights")
    assert [u["column_names"] for u in uniques] == [["score_type", "weight_key"]]
    conn = sqlite3.connect(path)
    try:
        insert = "INSERT INTO scoring_weights (score_type, weight_key, weight_value) VALUES (?, ?, ?)"
        conn.execute(insert, ("episode", "hash", 1))
        conn.execute(insert, ("movie", "hash", 2))
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            conn.execute(insert, ("episode", "hash", 3))
    finally:
        conn.close()


def test_ids_autoincrement_as_the_plan_says(migrated):
    """AUTOINCREMENT: an id is never reused after the newest row is deleted."""
    _, path = migrated
    conn = sqlite3.connect(path)
    try:
        conn.execute("INSERT INTO hook_configs (name, event_name) VALUES ('a', 'batch_complete')")
        conn.execute("DELETE FROM hook_configs")
        cur = conn.execute("INSERT INTO hook_configs (name, event_name) VALUES ('b', 'batch_complete')")
        assert cur.lastrowid == 2
    finally:
        conn.close()


def test_server_defaults_fill_rows_inserted_by_hand(migrated):
    _, path = migrated
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("INSERT INTO hook_configs (name, event_name) VALUES ('h', 'batch_complete')")
        conn.execute("INSERT INTO webhook_configs (name, event_name, url) VALUES ('w', '*', 'http://x')")
        conn.execute("INSERT INTO hook_log (event_name, hook_type, success) VALUES ('e', 'script', 1)")
        conn.execute("INSERT INTO provider_score_modifiers (provider_name) VALUES ('p')")
        hook = dict(conn.execute("SELECT * FROM hook_configs").fetchone())
        webhook = dict(conn.execute("SELECT * FROM webhook_configs").fetchone())
        log = dict(conn.execute("SELECT * FROM hook_log").fetchone())
        modifier = dict(conn.execute("SELECT * FROM provider_score_modifiers").fetchone())
    finally:
        conn.close()
    assert {
        k: hook[k] for k in ("hook_type", "enabled", "script_path", "timeout_seconds", "trigger_count")
    } == {
        "hook_type": "script",
        "enabled": 1,
        "script_path": "",
        "timeout_seconds": 30,
        "trigger_count": 0,
    }
    assert hook["created_at"] and hook["updated_at"]
    assert (webhook["retry_count"], webhook["timeout_seconds"], webhook["consecutive_failures"]) == (3, 10, 0)
    assert (log["exit_code"], log["status_code"], log["duration_ms"], log["stdout"]) == (None, None, 0, "")
    assert log["triggered_at"]
    assert modifier["modifier"] == 0 and modifier["updated_at"]


def test_models_and_migrations_describe_the_same_schema(migrated):
    engine, _ = migrated
    with engine.connect() as conn:
        opts = {"compare_type": True, "compare_server_default": compare_server_default}
        context = MigrationContext.configure(conn, opts=opts)
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_downgrade_removes_the_tables(tmp_path):
    from alembic import command

    from sublarr.core.db.engine import _alembic_config, create_sublarr_engine

    url = f"sqlite:///{tmp_path / 'down.db'}"
    upgrade_db(url)
    engine = create_sublarr_engine(url)
    try:
        config = _alembic_config(engine.url)
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
        assert inspect(engine).get_table_names() == ["alembic_version"]
    finally:
        engine.dispose()
