"""The read-only copy of the marts for BI: complete, read-only, and swapped in atomically,
so that a separate reader process querying it through a whole build never fails."""

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.exports.published import FILE_NAME, PUBLISHED, publish_database
from orchestration.paths import DBT_PROJECT_DIR, Paths
from orchestration.resources import MARTS_CATALOG, open_warehouse
from tests.conftest import query, run_main_job
from tests.copies import copy_data_dir, copy_warehouse

DBT = str(Path(sys.executable).with_name("dbt"))  # the environment's dbt, on PATH or not

# A BI tool's loop, as its own process: open the published file read-only, query a mart
# and which run published it, close; until told to stop (bounded by a deadline).
READER = """
import json, pathlib, sys, time
import duckdb

database, stop, report = sys.argv[1:4]
ok, failures, runs = 0, [], []
deadline = time.monotonic() + 900
while not pathlib.Path(stop).exists() and time.monotonic() < deadline:
    try:
        with duckdb.connect(database, read_only=True) as con:
            [(rows,)] = con.execute("select count(*) from marts.trial_balance").fetchall()
            [(run,)] = con.execute("select run_id from main.publication").fetchall()
        assert rows > 0, "an empty trial balance"
        ok += 1
        if not runs or runs[-1] != run:
            runs.append(run)
    except Exception as error:  # every kind of failure is what the test counts
        failures.append(f"{type(error).__name__}: {error}")
    time.sleep(0.05)
pathlib.Path(report).write_text(json.dumps({"ok": ok, "failures": failures, "runs": runs}))
"""


def test_published_database_holds_every_mart_and_is_read_only(paths: Paths, main_run) -> None:
    published = paths.exports / FILE_NAME
    marts = query(
        paths,
        "select table_name from information_schema.tables where table_schema = 'marts'"
        " and table_type = 'BASE TABLE' order by 1",
    )
    with duckdb.connect(str(published), read_only=True) as con:
        copied = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
            " order by 1"
        ).fetchall()
        [(run_id,)] = con.execute("select run_id from main.publication").fetchall()
        [(tb_rows, tb_total)] = con.execute(
            "select count(*), sum(closing_functional) from marts.trial_balance"
        ).fetchall()
    assert stat.S_IMODE(published.stat().st_mode) == 0o444
    assert copied == marts and len(marts) > 15
    assert run_id == main_run.run_id
    assert (tb_rows, tb_total) == query(
        paths, "select count(*), sum(closing_functional) from marts.trial_balance"
    )[0]
    assert not list(paths.exports.glob(f".{FILE_NAME}*"))  # no partial file or WAL left


def test_a_reader_never_fails_while_a_full_build_runs(
    paths: Paths, main_run, tmp_path: Path
) -> None:
    """A second process queries the published database in a loop through a whole run of
    the main job (on a copy of the data dir): every query succeeds, and it sees the
    publication switch from the first run to the second."""
    data = copy_data_dir(paths, tmp_path / "data")
    shutil.copytree(paths.dlt, data.dlt)
    data.extracts.symlink_to(paths.extracts)
    stop, report = tmp_path / "stop", tmp_path / "report.json"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(data.exports / FILE_NAME), str(stop), str(report)]
    )
    try:
        time.sleep(1)  # the reader is querying before the build starts
        with pytest.MonkeyPatch.context() as env:
            env.setenv("FINSYNC_DATA_DIR", str(data.data))
            rebuild = run_main_job(data)
        time.sleep(1)  # and after the swap
    finally:
        stop.touch()
        reader.wait(timeout=60)
    seen = json.loads(report.read_text())
    assert rebuild.success
    assert reader.returncode == 0
    assert seen["failures"] == []
    assert seen["ok"] > 20
    assert seen["runs"] == [main_run.run_id, rebuild.run_id]
    assert os.access(data.exports / FILE_NAME, os.R_OK)
    [written] = [
        event.materialization.metadata
        for event in rebuild.get_asset_materialization_events()
        if event.asset_key == PUBLISHED
    ]
    assert written["bytes"].value == (data.exports / FILE_NAME).stat().st_size
    assert written["rows_by_table"].value["marts.trial_balance"] > 0


def tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    return [
        f"{schema}.{table}"
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = ?"
            " and schema_name in ('marts', 'reconciliation') order by all",
            [catalog],
        ).fetchall()
    ]


def differences(con: duckdb.DuckDBPyConnection, target: Path) -> dict[str, int]:
    """Per table of the warehouse's marts and reconciliation, the rows found in it or in
    the published file `target` but not in both (`except all`: duplicates count)."""
    con.execute(f"attach '{target}' as published (read_only)")
    try:
        found = {}
        [(warehouse,)] = con.execute("select current_database()").fetchall()
        for name in tables(con, warehouse) + tables(con, MARTS_CATALOG):
            schema, table = name.split(".")
            one, other = f'{schema}."{table}"', f'published.{schema}."{table}"'
            [(count,)] = con.execute(
                f"select (select count(*) from (from {one} except all from {other}))"
                f" + (select count(*) from (from {other} except all from {one}))"
            ).fetchall()
            if count:
                found[name] = count
        return found
    finally:
        con.execute("detach published")


def test_a_republication_holds_the_rows_committed_since_and_nothing_else(
    paths: Paths, main_run, tmp_path: Path
) -> None:
    """Published again on the connection that changed the marts (rows committed, not yet
    checkpointed), the file holds the changed GL lines and dimension, not the dropped
    reconciliation table, and every other table as the warehouse holds it."""
    data = tmp_path / "data"
    data.mkdir()
    warehouse = copy_warehouse(paths.warehouse, data)
    target = tmp_path / "exports" / FILE_NAME
    with open_warehouse(warehouse, read_only=False) as con:
        first = publish_database(con, target, "first")
        [(changed,)] = con.execute(
            "update marts.fct_gl_journal_lines set line_text = coalesce(line_text, '') || ' !'"
            " where line_number = 1"
        ).fetchall()
        [(lines,)] = con.execute(
            "delete from marts.fct_gl_journal_lines where journal_line_key ="
            " (select min(journal_line_key) from marts.fct_gl_journal_lines)"
        ).fetchall()
        con.execute(
            "update marts.dim_account set account_name = account_name || ' (renamed)'"
            " where account_code = (select min(account_code) from marts.dim_account)"
        )
        con.execute("drop table reconciliation.rec_eliminations_net_to_zero")
        again = publish_database(con, target, "again")
        published = tables(con, MARTS_CATALOG) + tables(con, "warehouse")
        left = differences(con, target)
    with duckdb.connect(str(target), read_only=True) as con:
        [(run_id,)] = con.execute("select run_id from main.publication").fetchall()
        [(renamed,)] = con.execute(
            "select count(*) from marts.dim_account where ends_with(account_name, ' (renamed)')"
        ).fetchall()
    assert changed > 0 and lines == 1 and renamed == 1
    assert "reconciliation.rec_eliminations_net_to_zero" in first
    assert sorted(again) == sorted(published) and len(again) > 15
    assert again["marts.fct_gl_journal_lines"] == first["marts.fct_gl_journal_lines"] - 1
    assert left == {} and run_id == "again"
    assert stat.S_IMODE(target.stat().st_mode) == 0o444
    assert not list(target.parent.glob(f".{FILE_NAME}*"))


def test_whatever_was_published_before_is_replaced_whole(
    paths: Paths, main_run, tmp_path: Path
) -> None:
    """A previous file (another layout, tables since dropped) leaves nothing behind."""
    target = tmp_path / FILE_NAME
    with duckdb.connect(str(target)) as con:
        con.execute("create table publication as select 'old' as run_id, now() as published_at")
        con.execute("create schema marts")
        con.execute("create table marts.gone as select 1 as x")
        con.execute("create table marts.trial_balance as select 1 as x")
    target.chmod(0o444)
    data = tmp_path / "data"
    data.mkdir()
    with open_warehouse(copy_warehouse(paths.warehouse, data), read_only=False) as con:
        written = publish_database(con, target, "new")
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select run_id from main.publication").fetchall() == [("new",)]
        assert tables(con, "finsync") == sorted(written)
        [(rows,)] = con.execute("select count(*) from marts.trial_balance").fetchall()
    assert "marts.gone" not in written
    assert rows == written["marts.trial_balance"] > 1


def test_a_warehouse_built_before_the_marts_file_loses_its_stale_marts_on_the_next_dbt_run(
    paths: Paths, main_run, tmp_path: Path
) -> None:
    """A warehouse from before the marts had their own file still holds a `marts` schema:
    `marts.<table>` reads the marts' file all the same (the search path names its schema
    only), but the stale tables are listed beside the live ones. dbt's next run drops them."""
    data = tmp_path / "data"
    data.mkdir()
    warehouse = copy_warehouse(paths.warehouse, data)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.trial_balance as select 'stale' as period_id")
    listed = (
        "select count(*) from information_schema.tables"
        " where table_schema = 'marts' and table_name = 'trial_balance'"
    )
    read = "select min(period_id) from marts.trial_balance"
    with open_warehouse(warehouse) as con:
        [(before,)], [(read_before,)] = con.execute(listed).fetchall(), con.execute(read).fetchall()
    run = subprocess.run(
        [
            DBT, "--no-use-colors", "run",
            "--select", "dim_currency",
            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(data / "target"), "--log-path", str(data / "logs"),
        ],
        env={**os.environ, "FINSYNC_DATA_DIR": str(data)}, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    with open_warehouse(warehouse) as con:
        [(after,)], [(read_after,)] = con.execute(listed).fetchall(), con.execute(read).fetchall()
    [(live,)] = query(paths, read)
    assert run.returncode == 0, run.stdout[-2000:]
    assert (before, after) == (2, 1)
    assert read_before == read_after == live != "stale"
