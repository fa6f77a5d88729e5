"""Dagster's SQLite instance commits without an fsync per event, and its event log opens its
databases once (orchestration/event_storage.py)."""

import sqlite3

import dagster as dg
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from orchestration.event_storage import commit_without_fsync, keep_event_log_engines


def test_wal_databases_sync_normally_and_stay_open_between_writes(tmp_path):
    commit_without_fsync()
    commit_without_fsync()  # idempotent: one listener
    path = tmp_path / "events.db"
    with sqlite3.connect(path) as setup:
        setup.execute("pragma journal_mode = wal")
        setup.execute("create table events (body text)")
    setup.close()
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)  # as Dagster opens them
    for body in ("a", "b"):
        with engine.connect() as connection:
            assert connection.execute(text("pragma synchronous")).scalar() == 1  # NORMAL
            connection.execute(text("insert into events values (:body)"), {"body": body})
            connection.commit()
    # the write's close was not the last connection: its WAL was not checkpointed away
    assert path.with_name("events.db-wal").stat().st_size > 0
    with sqlite3.connect(path) as reader:
        assert reader.execute("select count(*) from events").fetchall() == [(2,)]
    reader.close()


def test_a_database_in_rollback_journal_mode_is_left_alone(tmp_path):
    commit_without_fsync()
    path = tmp_path / "journal.db"
    sqlite3.connect(path).close()
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    with engine.connect() as connection:
        assert connection.execute(text("pragma synchronous")).scalar() == 2  # FULL, the default


def test_a_dagster_instance_records_events_with_it(tmp_path):
    commit_without_fsync()
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    for i in range(3):
        instance.report_runless_asset_event(dg.AssetMaterialization("published", metadata={"i": i}))
    events = instance.fetch_materializations(dg.AssetKey("published"), limit=10).records
    assert [e.asset_materialization.metadata["i"].value for e in events] == [2, 1, 0]


def test_the_event_log_opens_each_database_once_per_process(tmp_path):
    """Dagster's SQLite event log would create an engine and a connection for each event's
    write to each database; here each database's connection stays open between writes."""
    keep_event_log_engines()
    keep_event_log_engines()  # idempotent
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    instance.report_runless_asset_event(dg.AssetMaterialization("published", metadata={"i": 0}))
    opened: list[object] = []

    def count(connection: object, _record: object) -> None:
        opened.append(connection)

    event.listen(Engine, "connect", count)
    try:
        for i in range(1, 20):
            instance.report_runless_asset_event(
                dg.AssetMaterialization("published", metadata={"i": i})
            )
    finally:
        event.remove(Engine, "connect", count)
    assert opened == []
    index = next(tmp_path.rglob("index.db"))
    with sqlite3.connect(index) as reader:  # another connection sees every commit
        [(stored,)] = reader.execute(
            "select count(*) from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION'"
        ).fetchall()
    reader.close()
    assert stored == 20


def test_a_wiped_event_log_writes_to_new_files(tmp_path):
    """`wipe` deletes the runs' database files: a kept connection must not write on into a
    deleted file, where the event would be lost."""
    keep_event_log_engines()
    instance = dg.DagsterInstance.from_config(str(tmp_path))

    @dg.asset
    def published() -> None:
        return None

    run = instance.get_run_by_id(dg.materialize([published], instance=instance).run_id)
    instance.wipe()
    instance.report_engine_event("after the wipe", run)
    with sqlite3.connect(tmp_path / "history" / "runs" / f"{run.run_id}.db") as reader:
        rows = reader.execute("select count(*) from event_logs").fetchall()
    reader.close()
    assert rows == [(1,)]
