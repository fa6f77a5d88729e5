"""The bench's contenders do finsync's work: the floor and the pandas script, run on the
test enterprise's extracts as `make bench` runs them (each in a process of its own),
publish the rows and totals of the main job's marts and files, with finsync's columns.
Not timed: `make bench` measures; this keeps a change to finsync's products from leaving
the contenders behind unnoticed until the next bench. And what the bench measures with
holds: a run's CPU time counts the subprocesses it waits for.
"""

import json
import subprocess
import sys

import dagster as dg
import duckdb

from bench.agreement import disagreements, missing_columns
from bench.floor import PHASES
from bench.measure import measure
from orchestration.paths import REPO_ROOT, Paths

STATEMENTS = ("income_statement", "balance_sheet")
STATEMENTS += tuple(f"consolidated_{statement}" for statement in STATEMENTS)


def statement_lines(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple]:
    """A statement's lines per period, with their labels and calendar."""
    return con.execute(
        "select distinct period_id, fiscal_year, fiscal_period, statement_line_code, section,"
        f" statement_line_name, statement_line_sort_order from {relation} order by all"
    ).fetchall()


def test_the_floor_and_pandas_publish_finsyncs_numbers(
    paths: Paths, main_run: dg.ExecuteInProcessResult
) -> None:
    assert main_run.success
    for contender in ("bench.floor", "bench.naive_pandas"):
        subprocess.run(
            [sys.executable, "-m", contender, str(paths.data)], cwd=REPO_ROOT, check=True
        )

    assert disagreements(paths.data) == {"floor": [], "pandas": []}
    # both publish every column finsync does (its lineage aside): the GL lines' (the bulk
    # of the work) and the statements' labels, calendar and consolidation splits
    missing = missing_columns(paths.data)
    assert missing["floor"] == {}
    assert missing["pandas"] == {}
    # which rows and totals do not compare: the statements' lines are finsync's, named,
    # placed and dated alike
    with duckdb.connect() as con:
        con.execute("attach ? as finsync (read_only)", [str(paths.marts)])
        con.execute("attach ? as floor (read_only)", [str(paths.data / "floor" / "floor.duckdb")])
        for product in STATEMENTS:
            expected = statement_lines(con, f"finsync.marts.{product}")
            assert statement_lines(con, f"floor.{product}") == expected, product
            pandas = paths.data / "pandas" / f"{product}.parquet"
            assert statement_lines(con, f"read_parquet('{pandas}')") == expected, product
    # the floor's statements fall in its three phases, and each phase does some work
    phases = json.loads((paths.data / "floor" / "phases.json").read_text())
    assert set(phases) == set(PHASES)
    assert all(seconds > 0 for seconds in phases.values())


def test_the_bench_counts_the_cpu_of_the_children_a_run_waits_for(tmp_path) -> None:
    """A run's CPU time includes its subprocesses' (dbt's under Dagster), also of those
    that came and went between two samples: twenty children that spin 30 ms each while
    their parent waits show as at least their 0.6 s, and never as less over time."""
    spin = "import time; end = time.process_time() + 0.03\nwhile time.process_time() < end: pass"
    parent = (
        "import subprocess, sys\nfor _ in range(20):"
        f" subprocess.run([sys.executable, '-c', {spin!r}], check=True)"
    )
    measured = measure([sys.executable, "-c", parent], {}, tmp_path / "run.log")
    assert measured.cpu_seconds >= 0.6
    cpus = [cpu for _, _, cpu in measured.samples]
    assert cpus == sorted(cpus)
    start, end = measured.samples[0][0], measured.samples[-1][0]
    assert measured.cpu_between(start, end) >= 0.5
