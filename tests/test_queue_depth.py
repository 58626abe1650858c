"""The delivery queue and the execution log stay fast at depth: what the queries do, not their time.

Claims read the partial index of pending rows in order (no scan, no sort) whatever else the
table holds; purges delete old finished rows in small transactions; the log pages by id
cursor through an index, filtered or not. Each runs on SQLite and, when
``SUBLARR_TEST_POSTGRES_URL`` is set, on PostgreSQL. The timings are in ``bench/delivery.py``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import event, insert

from sublarr.core.db import get_engine, init_db
from sublarr.core.db import hooks as logs
from sublarr.core.db.models import Delivery, HookLog, utcnow_iso
from sublarr.core.delivery import store

API = "/api/v1"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request) -> Any:
    """The current database: a fresh SQLite file, or a fresh schema on the test PostgreSQL server."""
    if request.param == "sqlite":
        request.getfixturevalue("sublarr_db")
        return get_engine()
    return init_db(request.getfixturevalue("postgres_url"))


def fill_deliveries(
    count: int, status: str, next_at: float, *, finished_at: str | None = None, tag: str
) -> None:
    rows = [
        {
            "id": f"msg_{tag}_{n:08d}", "kind": "webhook", "target_id": 1, "event_name": "e",
            "event_id": "x", "event_timestamp": "t", "payload": "{}", "status": status,
            "attempts": 0, "next_attempt_at": next_at + n * 0.001, "last_error": "",
            "created_at": utcnow_iso(), "finished_at": finished_at,
            "claimed_by": "h:1:x" if status == "running" else None,
            "lease_until": next_at + 60 if status == "running" else None,
        }
        for n in range(count)
    ]  # fmt: skip
    with get_engine().begin() as conn:
        conn.execute(insert(Delivery), rows)


def analyze(engine: Any) -> None:
    """Up-to-date statistics, as autovacuum keeps them on a real PostgreSQL server."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE deliveries")
            conn.exec_driver_sql("ANALYZE hook_log")


class StatementLog:
    """Records the SQL statements (and parameters) the engine runs while active."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.statements: list[tuple[str, Any]] = []

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append((statement, parameters))

    def __enter__(self) -> StatementLog:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)


def query_plan(engine: Any, statement: str, parameters: Any) -> str:
    """The database's plan for ``statement`` (not run: EXPLAIN only), as one text."""
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()
    return "\n".join(str(row[-1]) for row in rows)


def prepared_plan(engine: Any, statement: Any, params: dict[str, Any]) -> str:
    """The plan of a statement the queue runs through ``run_prepared`` (no engine events see those)."""
    compiled = statement.compile(dialect=engine.dialect)
    values = {**compiled.params, **params}
    positional = tuple(values[name] for name in compiled.positiontup) if compiled.positiontup else values
    return query_plan(engine, str(compiled), positional)


def assert_index_plan(engine: Any, plan: str, index: str) -> None:
    """``plan`` reads ``index`` and neither scans a whole table nor sorts."""
    assert index in plan, plan
    if engine.dialect.name == "sqlite":
        assert "TEMP B-TREE" not in plan and "SCAN deliveries" not in plan, plan
    else:
        assert "Seq Scan" not in plan and "Sort" not in plan, plan


# ---- claims ------------------------------------------------------------------------------------


def test_claims_read_the_due_index_in_order_whatever_else_is_queued(db):
    now = time.time()
    fill_deliveries(3000, "delivered", now - 500, finished_at=utcnow_iso(), tag="done")
    fill_deliveries(2000, "pending", now + 3600, tag="wait")
    fill_deliveries(40, "running", now - 400, tag="run")
    fill_deliveries(50, "pending", now - 300, tag="due")
    analyze(db)
    statement = store._CLAIM_POSTGRES if db.dialect.name == "postgresql" else store._CLAIM_SQLITE
    params = {"b_now": now, "b_limit": 8, "b_owner": "o", "b_lease": now + 60}
    assert_index_plan(db, prepared_plan(db, statement, params), "ix_deliveries_due")

    claimed = []
    while rows := store.claim_deliveries("h:2:x", 8, 60, now=now):
        assert len(rows) <= 8
        claimed.extend(row["id"] for row in rows)
    assert claimed == [f"msg_due_{n:08d}" for n in range(50)]  # each once, oldest due first
    assert store.count_deliveries() == {"delivered": 3000, "pending": 2000, "running": 90}
    assert store.next_due_at() == pytest.approx(now + 3600)


def test_lease_queries_read_only_running_rows(sublarr_db):
    engine = get_engine()
    now = time.time()
    fill_deliveries(500, "delivered", now, finished_at=utcnow_iso(), tag="done")
    fill_deliveries(5, "running", now - 120, tag="run")
    with StatementLog(engine) as log:
        assert store.release_expired(now=now) == 5
    statement, params = log.statements[-1]
    plan = query_plan(engine, statement, params)
    assert "ix_deliveries_running" in plan and "SCAN" not in plan, plan


# ---- purge -------------------------------------------------------------------------------------


def _commits(engine: Any) -> list[int]:
    counted: list[int] = []
    event.listen(engine, "commit", lambda conn: counted.append(1))
    return counted


def test_purge_deletes_old_finished_rows_in_batches_and_keeps_the_rest(db):
    now = time.time()
    old = "2000-01-01T00:00:00.000000+00:00"
    fill_deliveries(600, "delivered", now, finished_at=old, tag="old_ok")
    fill_deliveries(250, "failed", now, finished_at=old, tag="old_failed")
    fill_deliveries(100, "skipped", now, finished_at=old, tag="old_skipped")
    fill_deliveries(30, "delivered", now, finished_at=utcnow_iso(), tag="new")
    fill_deliveries(20, "pending", now, tag="pend")
    fill_deliveries(10, "running", now, tag="run")
    analyze(db)
    with StatementLog(db):
        commits = _commits(db)
        assert store.purge_finished(3600, batch_size=100, max_rows=300) == 300
        assert len(commits) == 3  # one short transaction per batch
        assert store.purge_finished(3600, batch_size=100) == 650
        assert len(commits) == 3 + 7  # the last (short) batch shows nothing is left
    assert store.count_deliveries() == {"delivered": 30, "pending": 20, "running": 10}
    if db.dialect.name == "sqlite":  # PostgreSQL's planner picks by cost (a scan, on this small table)
        plan = prepared_plan(db, store._PURGE, {"b_cutoff": utcnow_iso(), "b_limit": 100})
        assert "ix_deliveries_finished_at" in plan, plan
    assert store.purge_finished(3600) == 0


def test_an_emit_gets_the_write_lock_between_purge_batches(sublarr_db):
    """A purge running in another thread holds the lock one batch at a time, never for the whole purge."""
    fill_deliveries(6000, "delivered", time.time(), finished_at="2000-01-01T00:00:00+00:00", tag="old")
    done = threading.Event()
    purged: list[int] = []

    def purge() -> None:
        purged.append(store.purge_finished(3600, batch_size=50))
        done.set()

    thread = threading.Thread(target=purge)
    thread.start()
    enqueued_during = 0
    while not done.is_set():
        store.enqueue_deliveries([("webhook", 1)], "e", "x", "t", "{}")
        if not done.is_set():
            enqueued_during += 1
    thread.join()
    assert purged == [6000]
    assert enqueued_during >= 3, "emits had to wait for the whole purge"
    assert store.count_deliveries()["pending"] >= enqueued_during


# ---- the log -----------------------------------------------------------------------------------


def fill_log(count: int, **values: Any) -> None:
    base = {
        "hook_id": None, "webhook_id": None, "event_name": "e", "hook_type": "webhook", "success": 1,
        "stdout": "", "stderr": "", "error": "", "duration_ms": 1.0, "triggered_at": utcnow_iso(),
        "delivery_id": None,
    }  # fmt: skip
    with get_engine().begin() as conn:
        conn.execute(insert(HookLog), [{**base, **values} for _ in range(count)])


def test_log_pages_by_cursor_through_indexes(db):
    fill_log(100, webhook_id=1, event_name="batch_complete")
    fill_log(100, hook_id=2, hook_type="script", event_name="subtitle_downloaded", success=0)
    fill_log(100, webhook_id=3, event_name="batch_complete", success=0, delivery_id="msg_a")
    fill_log(5000, webhook_id=9, event_name="config_updated")  # most of the log: none of the above
    analyze(db)
    cases = {
        "ix_hook_log_webhook_id": {"webhook_id": 1},
        "ix_hook_log_hook_id": {"hook_id": 2},
        "ix_hook_log_event_name": {"event_name": "subtitle_downloaded"},
        "ix_hook_log_success": {"success": False},
        "ix_hook_log_delivery_id": {"delivery_id": "msg_a"},
    }
    for index, filters in cases.items():
        with StatementLog(db) as log:
            page = logs.get_hook_logs(**filters, limit=20, before_id=290)
        assert page and all(row["id"] < 290 for row in page)
        statement, params = log.statements[-1]
        plan = query_plan(db, statement, params)
        if db.dialect.name == "sqlite":
            assert index in plan and "TEMP B-TREE" not in plan, (filters, plan)
        else:  # the planner picks by cost among the indexes; never a whole-table scan
            assert "Seq Scan" not in plan, (filters, plan)
            if "delivery_id" not in filters:  # a delivery's few attempts may be sorted
                assert "Sort" not in plan, (filters, plan)
    with StatementLog(db) as log:
        logs.get_hook_logs(limit=20, before_id=450)  # no filter: the primary key, backwards
    plan = query_plan(db, *log.statements[-1])
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


def test_log_filters_combine(db):
    fill_log(5, webhook_id=1, event_name="batch_complete")
    fill_log(4, webhook_id=1, event_name="batch_complete", success=0, delivery_id="msg_x")
    fill_log(3, webhook_id=1, event_name="config_updated", success=0)
    fill_log(2, hook_id=1, hook_type="script", event_name="batch_complete", success=0)

    def ids(**filters: Any) -> list[int]:
        return [row["id"] for row in logs.get_hook_logs(**filters, limit=100)]

    assert len(ids(webhook_id=1)) == 12 and len(ids(event_name="batch_complete")) == 11
    assert len(ids(webhook_id=1, success=False)) == 7
    assert len(ids(webhook_id=1, event_name="batch_complete", success=False)) == 4
    assert len(ids(event_name="batch_complete", success=False)) == 6
    assert len(ids(event_name="batch_complete", success=True)) == 5
    assert len(ids(hook_id=1, success=True)) == 0
    assert len(ids(delivery_id="msg_x", webhook_id=1)) == 4
    assert logs.get_hook_log_count(webhook_id=1, event_name="batch_complete", success=False) == 4
    assert ids() == sorted(ids(), reverse=True)  # newest first


def test_cursor_pages_return_every_row_once_while_rows_are_added(api_client):
    fill_log(500, webhook_id=1)
    fill_log(120, webhook_id=2)
    before = {row["id"] for row in logs.get_hook_logs(limit=10_000)}
    stop = threading.Event()

    def keep_logging() -> None:
        while not stop.is_set():
            fill_log(3, webhook_id=1)
            time.sleep(0.001)

    writer = threading.Thread(target=keep_logging)
    writer.start()
    try:
        seen: list[int] = []
        cursor = None
        while True:
            query = "limit=37" + (f"&cursor={cursor}" if cursor else "")
            page = api_client.get(f"{API}/hooks/logs?{query}").get_json()
            assert set(page) == {"logs", "next_cursor", "total", "limit"} and page["total"] is None
            seen.extend(row["id"] for row in page["logs"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
    finally:
        stop.set()
        writer.join()
    assert len(seen) == len(set(seen)), "a row came twice"
    assert before <= set(seen), "a row present before paging was missed"
    assert seen == sorted(seen, reverse=True)
    # filtered by webhook, with the count on request
    seen_one: list[int] = []
    cursor = None
    while True:
        query = "webhook_id=2&limit=50&include_total=true" + (f"&cursor={cursor}" if cursor else "")
        page = api_client.get(f"{API}/hooks/logs?{query}").get_json()
        assert page["total"] == 120
        seen_one.extend(row["id"] for row in page["logs"])
        if (cursor := page["next_cursor"]) is None:
            break
    assert len(seen_one) == len(set(seen_one)) == 120


@pytest.mark.parametrize(
    "query",
    [
        "cursor=bm90IGEgY3Vyc29y",  # base64 of "not a cursor"
        "cursor=log:12",
        "cursor=%00",
        "cursor=" + "A" * 65,
        f"cursor={logs.log_cursor(5)}&offset=3",
    ],
)
def test_a_bad_cursor_is_refused_with_a_clear_message(api_client, query):
    response = api_client.get(f"{API}/hooks/logs?{query}")
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    field = "offset" if "offset" in query else "cursor"
    assert field in str(body["detail"]), body


def test_the_cursor_is_opaque_and_round_trips():
    cursor = logs.log_cursor(123456)
    assert "123456" not in cursor
    assert logs.parse_log_cursor(cursor) == 123456
    with pytest.raises(Exception, match="cursor"):
        logs.parse_log_cursor(cursor[:-2] + "!!")


# ---- grouped attempt writes --------------------------------------------------------------------


def _log_row(conn: Any, name: str) -> int:
    return conn.execute(
        insert(HookLog).values(event_name=name, hook_type="webhook", success=1, triggered_at=utcnow_iso())
    ).inserted_primary_key[0]


def test_writes_arriving_together_share_one_transaction_and_a_bad_one_fails_alone(sublarr_db):
    group = store.GroupCommit(gather=5, linger=1.0)  # the first waits for the others to arrive
    outcomes: dict[str, tuple[Any, Any]] = {}
    everyone = threading.Barrier(5)

    def submit(name: str) -> None:
        def write(conn: Any) -> int:
            if name == "bad":
                raise ValueError("refused")
            return _log_row(conn, name)

        everyone.wait()
        group.submit(write, lambda result, error: outcomes.__setitem__(name, (result, error)))

    def run_all(names: list[str]) -> None:
        threads = [threading.Thread(target=submit, args=(name,)) for name in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    run_all([f"ok{n}" for n in range(5)])
    assert group.groups == 1 and group.idle()
    assert sorted(outcomes) == [f"ok{n}" for n in range(5)]
    assert all(error is None and isinstance(result, int) for result, error in outcomes.values())
    outcomes.clear()
    run_all(["a", "b", "bad", "c", "d"])
    assert group.groups > 1 + 1  # the group's transaction failed, then its writes went alone
    assert isinstance(outcomes["bad"][1], ValueError) and outcomes["bad"][0] is None
    assert all(outcomes[name][1] is None for name in "abcd")
    stored = {row["event_name"] for row in logs.get_hook_logs(limit=100)}
    assert stored == {f"ok{n}" for n in range(5)} | set("abcd")


def test_record_attempt_waits_for_its_own_commit(sublarr_db):
    from sublarr.core.delivery import add_webhook

    hook = add_webhook("w", "config_updated", "http://127.0.0.1:9/", retry_count=0)
    [delivery_id] = store.enqueue_deliveries([("webhook", hook["id"])], "config_updated", "e", "t", "{}")
    store.claim_deliveries("h:3:x", 1, 60)
    record = store.record_attempt(
        delivery_id=delivery_id, owner="h:3:x", kind="webhook", target_id=hook["id"],
        event_name="config_updated", success=True, status_code=200, outcome="delivered",
    )  # fmt: skip
    assert store.get_delivery(delivery_id)["status"] == "delivered"  # committed on return
    [row] = logs.get_hook_logs(delivery_id=delivery_id)
    assert row["id"] == record.log_id and row["webhook_id"] == hook["id"]


def test_a_group_writes_in_one_lock_order_whatever_the_arrival_order(sublarr_db):
    # Groups of several worker processes lock targets' statistics rows; written in arrival
    # order they deadlock on PostgreSQL (bench/scale.py with 4 processes), so each group is
    # written in (kind, target_id) order.
    writes = store.GroupCommit()
    arrived = [("webhook", 3), ("webhook", 1), ("script", 7), ("webhook", 2), ("script", 1)]
    written: list[tuple[str, int]] = []
    for key in arrived:
        writes._waiting.append(store._Write(lambda conn, key=key: written.append(key), None, key))
    writes._leading = True
    writes._lead()
    assert written == sorted(arrived)
    assert writes.groups == 1 and writes.idle()
