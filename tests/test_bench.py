"""The bench's contenders do finsync's work: the floor and the pandas script, run on the
test enterprise's extracts as `make bench` runs them (each in a process of its own),
publish the rows and totals of the main job's marts and files, with finsync's columns.
Not timed: `make bench` measures; this keeps a change to finsync's products from leaving
the contenders behind unnoticed until the next bench. And what the bench measures with
holds: a run's CPU time counts the subprocesses it waits for, and its smallest run does
the least a run of finsync does.
"""

import json
import os
import shutil
import subprocess
import sys

import dagster as dg
import duckdb

from bench.__main__ import INSTANCE_CONFIG, SMALLEST
from bench.agreement import disagreements, missing_columns
from bench.figures import dbt_layer_seconds
from bench.finsync import SMALLEST_JOB
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


def test_the_smallest_run_builds_one_mart_with_its_dbt_tests_and_contract(
    paths: Paths, main_run: dg.ExecuteInProcessResult, tmp_path
) -> None:
    """The bench's smallest run, as `make bench` starts it (a process on the built
    warehouse, an instance of its own): one mart with its dbt tests and its contract, and
    no other step or dbt layer, so that it measures what any run costs before its work."""
    assert main_run.success
    home = tmp_path / "dagster"
    home.mkdir()
    shutil.copy(INSTANCE_CONFIG, home / "dagster.yaml")
    out = tmp_path / f"{SMALLEST}.json"
    subprocess.run(
        [sys.executable, "-m", "bench.finsync", SMALLEST, str(out)],
        cwd=REPO_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        check=True,
    )
    figures = json.loads(out.read_text())
    assert figures["success"]
    assert figures["job"] == SMALLEST_JOB
    with dg.DagsterInstance.from_config(str(home)) as instance:
        stats = instance.get_run_step_stats(figures["run_id"])
        built = instance.get_latest_materialization_event(
            dg.AssetKey(["marts", "dim_legal_entity"])
        )
        observed = instance.all_logs(
            figures["run_id"], of_type=dg.DagsterEventType.ASSET_OBSERVATION
        )
        evaluated = {
            event.get_dagster_event().asset_check_evaluation_data.asset_check_key.to_user_string()
            for event in instance.all_logs(
                figures["run_id"], of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
            )
        }
    assert {s.step_key for s in stats} == {"dbt_models", "marts__dim_legal_entity_contract"}
    # dbt also runs the relationships tests of other models against the mart: the job
    # selects them, so each is a check result, not an observation logged with a warning
    assert observed == []
    assert (
        "marts/dim_customer:relationships_dim_customer_entity_code__entity_code__ref_dim_legal_entity_"
        in evaluated
    )
    assert built is not None and built.run_id == figures["run_id"]
    layers = set(dbt_layer_seconds(figures["run_id"]))
    assert {"marts", "tests"} <= layers
    assert not layers & {"staging", "intermediate", "quarantine", "seeds", "snapshots"}
