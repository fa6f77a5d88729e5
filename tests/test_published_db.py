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

from orchestration.exports import published as published_module
from orchestration.exports.published import FILE_NAME, PUBLISHED, Publication, publish_database
from orchestration.paths import Paths
from tests.conftest import HASHED_ALIKE, query, run_main_job
from tests.copies import copy_data_dir

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
    assert written["updated_in_place"].value is True  # it started from the previous file


def publish(warehouse: Path, target: Path, run_id: str) -> Publication:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return publish_database(con, target, run_id)


def tables(database: Path) -> list[str]:
    with duckdb.connect(str(database), read_only=True) as con:
        return [
            f"{schema}.{table}"
            for schema, table in con.execute(
                "select schema_name, table_name from duckdb_tables() order by all"
            ).fetchall()
        ]


def differences(left: Path, right: Path) -> dict[str, int]:
    """Per table (but main.publication, which names the run), the rows found in one file
    and not the other, either way, counting duplicates (`except all`)."""
    found = {}
    with duckdb.connect() as con:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        for name in tables(left):
            if name == "main.publication":
                continue
            schema, table = name.split(".")
            one, other = f'l.{schema}."{table}"', f'r.{schema}."{table}"'
            [(count,)] = con.execute(
                f"select (select count(*) from (from {one} except all from {other}))"
                f" + (select count(*) from (from {other} except all from {one}))"
            ).fetchall()
            if count:
                found[name] = count
    return found


def test_republishing_rewrites_only_what_changed(
    paths: Paths, main_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unchanged warehouse rewrites no table; a changed one rewrites only the changed
    period of the GL lines, the changed small table and drops the dropped one, and the file
    it leaves holds the same rows as one written from scratch."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(paths.warehouse, warehouse)
    target, scratch = tmp_path / "exports" / FILE_NAME, tmp_path / "scratch" / FILE_NAME
    # The session's GL is small: compare it per period as a large one would be.
    monkeypatch.setattr(published_module, "PARTITION_MIN_ROWS", 1000)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        [(lines, periods, last)] = con.execute(
            "select count(*), count(distinct period_id), max(period_id)"
            " from marts.fct_gl_journal_lines"
        ).fetchall()
    assert lines > 1000 and periods > 2

    first = publish(warehouse, target, "first")
    assert not first.updated and len(first.tables_replaced) == len(first.rows) > 15

    again = publish(warehouse, target, "again")
    assert again.updated
    assert (again.tables_replaced, again.periods_replaced, again.tables_dropped) == ([], {}, [])
    assert again.rows == first.rows

    with duckdb.connect(str(warehouse)) as con:
        [(changed,)] = con.execute(
            "update marts.fct_gl_journal_lines set line_text = coalesce(line_text, '') || ' !'"
            " where period_id = ? and line_number = 1",
            [last],
        ).fetchall()
        con.execute(
            "delete from marts.fct_gl_journal_lines where journal_line_key ="
            " (select min(journal_line_key) from marts.fct_gl_journal_lines where period_id = ?)",
            [last],
        )
        con.execute(
            "update marts.dim_account set account_name = account_name || ' (renamed)'"
            " where account_code = (select min(account_code) from marts.dim_account)"
        )
        con.execute("drop table reconciliation.rec_eliminations_net_to_zero")
    assert changed > 0

    update = publish(warehouse, target, "update")
    assert update.updated
    assert update.periods_replaced == {"marts.fct_gl_journal_lines": [last]}
    assert update.tables_replaced == ["marts.dim_account"]
    assert update.tables_dropped == ["reconciliation.rec_eliminations_net_to_zero"]
    assert update.rows["marts.fct_gl_journal_lines"] == lines - 1

    from_scratch = publish(warehouse, scratch, "scratch")
    assert not from_scratch.updated
    assert tables(target) == tables(scratch)
    assert "reconciliation.rec_eliminations_net_to_zero" not in tables(target)
    assert differences(target, scratch) == {}
    assert stat.S_IMODE(target.stat().st_mode) == 0o444
    assert not list(target.parent.glob(f".{FILE_NAME}*"))


def test_a_file_of_another_format_is_written_anew(paths: Paths, main_run, tmp_path: Path) -> None:
    """A previous publication of an older format (no format, no fingerprints) is not
    updated but replaced: nothing of it survives."""
    target = tmp_path / FILE_NAME
    with duckdb.connect(str(target)) as con:
        con.execute("create table publication as select 'old' as run_id, now() as published_at")
        con.execute("create schema marts")
        con.execute("create table marts.gone as select 1 as x")
        con.execute("create table marts.trial_balance as select 1 as x")
    written = publish(paths.warehouse, target, "new")
    assert not written.updated
    assert "marts.gone" not in tables(target)
    assert len(written.tables_replaced) == len(written.rows)
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select run_id from main.publication").fetchall() == [("new",)]
        [(rows,)] = con.execute("select count(*) from marts.trial_balance").fetchall()
    assert rows == written.rows["marts.trial_balance"] > 1


def test_a_row_edited_to_text_duckdb_hashes_alike_is_published(tmp_path: Path) -> None:
    """An edit DuckDB's own row `hash` misses (two characters of one text) still changes the
    table's fingerprint: the table is published again, with the edited row."""
    alike = HASHED_ALIKE
    warehouse, target = tmp_path / "warehouse.duckdb", tmp_path / "exports" / FILE_NAME
    with duckdb.connect(str(warehouse)) as con:
        [(same_hash,)] = con.execute("select hash(?) = hash(?)", list(alike)).fetchall()
        con.execute("create schema marts")
        con.execute("create table marts.mart as select ? as key, 1.5 as amount", [alike[0]])
    first = publish(warehouse, target, "first")
    again = publish(warehouse, target, "again")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update marts.mart set key = ?", [alike[1]])
    edited = publish(warehouse, target, "edited")
    with duckdb.connect(str(target), read_only=True) as con:
        [(published,)] = con.execute("select key from marts.mart").fetchall()
    assert same_hash  # the premise: DuckDB's hash alone would call the rows unchanged
    assert (first.tables_replaced, again.tables_replaced) == (["marts.mart"], [])
    assert edited.updated and edited.tables_replaced == ["marts.mart"]
    assert published == alike[1]
