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

from orchestration.exports.published import FILE_NAME
from orchestration.paths import Paths
from tests.conftest import query, run_main_job
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
