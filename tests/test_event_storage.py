"""Dagster's SQLite instance commits without an fsync per event (orchestration/event_storage.py)."""

import sqlite3

import dagster as dg
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from orchestration.event_storage import commit_without_fsync


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
