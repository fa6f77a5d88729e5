"""The bench's contenders do finsync's work: the floor and the pandas script, run on the
test enterprise's extracts as `make bench` runs them (each in a process of its own),
publish the rows and totals of the main job's marts and files, with finsync's columns.
Not timed: `make bench` measures; this keeps a change to finsync's products from leaving
the contenders behind unnoticed until the next bench. And what the bench measures with
holds: a run's CPU time counts the subprocesses it waits for, its smallest run does the
least a run of finsync does, its table's ratios are to the contenders' means, and two
benches compare side by side.
"""

import copy
import json
import os
import shutil
import subprocess
import sys

import dagster as dg
import duckdb
import pytest

from bench import compare
from bench.__main__ import (
    AGAIN,
    INSTANCE_CONFIG,
    LAKE,
    RUNS,
    SMALLEST,
    bracketed,
    commit,
    table,
)
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
    layers = set(dbt_layer_seconds(paths, figures["run_id"]))
    assert {"marts", "tests"} <= layers
    assert not layers & {"staging", "intermediate", "quarantine", "seeds", "snapshots"}


def bench_figures() -> dict:
    """One scale's figures as the bench records them, chosen so each ratio has one right
    value: the floor's and pandas' means 50 and 120 s, finsync's full build 150 s."""
    seconds = {
        "generation": 5.0,
        "floor": 40.0,
        "floor" + AGAIN: 60.0,  # mean 50
        "pandas": 100.0,
        "pandas" + AGAIN: 140.0,  # mean 120
        "dbt_parse": 8.0,
        "finsync_full": 150.0,
        "finsync_incremental": 15.0,
        "finsync_unchanged": 12.0,
        f"finsync_{SMALLEST}": 6.0,
        f"finsync_{LAKE}": 120.0,
    }
    run = {
        "process_s": 150.0,
        "job_s": 140.0,
        "steps": {
            "load_erp": 30.0,
            "dbt_models": 60.0,
            "raw_erp_contracts": 10.0,
            "reconciliation__gl_ties": 5.0,
            "fpa_actuals_export": 20.0,
        },
        "step_peak_rss": {"dbt_models": 3 * 2**30},
        "step_cpu_s": {"dbt_models": 108.0},
        "dbt_layers": {"staging": 20.0, "marts": 25.0, "tests": 30.0, "elapsed": 58.0},
        "failed_steps": [],
        "failed_checks": [],
    }
    return {
        "scale": 10.0,
        "gl_lines": 1_500_000,
        "runs": {
            name: {"seconds": s, "peak_rss": 2**30, "cpu_s": s * 1.5} for name, s in seconds.items()
        },
        "full": run,
        **{phase: run for phase in RUNS[1:]},
        SMALLEST: {**run, "failed_steps": ["dbt_models"]},
        "incremental": {**run, "failed_checks": ["marts/fpa_actuals:ties"]},
        "floor_phases": {"load": 10.0, "products": 20.0, "exports": 10.0},
        "disagreements": {"floor": [], "pandas": ["trial_balance: 3 rows, finsync 4"]},
        "missing_columns": {"floor": {}, "pandas": {}},
    }


def test_the_bench_sets_finsync_against_the_mean_of_each_contenders_two_runs() -> None:
    """The bench's table, on figures chosen so each ratio has one right value: the floor
    and pandas count as the mean of their runs before and after the full build (a drift
    between them weighs on both sides), the daily runs as shares of the full build, the
    phases against the floor's, and a failed step or check is printed, not left out."""
    result = bench_figures()
    printed = table(result).splitlines()
    assert bracketed(result["runs"], "floor") == 50.0
    assert bracketed(result["runs"], "pandas") == 120.0

    def line(start: str) -> str:
        (found,) = [text.strip() for text in printed if text.strip().startswith(start)]
        return found

    assert line("finsync / floor").split() == [
        *("finsync", "/", "floor", "3.0x", "(lake", "raw:", "2.4x;"),
        *("the", "floor's", "mean", "of", "its", "two", "runs,", "50.0", "s)"),
    ]
    assert line("finsync / pandas").startswith("finsync / pandas    1.25x   (lake raw: 1.00x;")
    assert line("incremental / full").split()[3:] == [
        *("10.0%", "(nothing", "new:", "8.0%;", "smallest", "run:", "4.0%)")
    ]
    # ingest, dbt and exports against the floor's load, products and exports; what only
    # finsync does is the rest of its wall time: 150 - (30 + 60 + 20)
    assert line("load |").split()[-3:] == ["10.0", "30.0", "3.0x"]
    assert line("products |").split()[-3:] == ["20.0", "60.0", "3.0x"]
    assert line("exports |").split()[-3:] == ["10.0", "20.0", "2.0x"]
    assert line("finsync alone").split()[-1] == "40.0"
    # each layer once per run; Dagster's own time is the job's outside its steps
    assert line("process start").split()[-5:] == ["10.0"] * 5
    assert line("Dagster (run start").split()[-5:] == ["15.0"] * 5
    assert line("dbt build").split()[-7:] == [*["60.0"] * 5, "3,072", "1.80"]
    assert line("floor: one DuckDB").split()[-4:] == ["40.0", "1,024", "37,500", "1.50"]
    assert f"  {SMALLEST} run FAILED steps: dbt_models" in printed
    assert "  incremental run: checks failed: marts/fpa_actuals:ties" in printed
    assert "  floor: agrees with finsync's marts" in printed
    assert "  pandas: DISAGREES" in printed
    assert "    trial_balance: 3 rows, finsync 4" in printed


def test_two_benches_compare_run_by_run_with_their_targets_layers_and_code(
    tmp_path, monkeypatch, capsys
) -> None:
    """`make bench-compare` sets two benches side by side: each run's new over old (the
    contenders' first, as the machine's drift), the targets' ratios, each layer of the
    full build, the day and the nothing-new run, the code each bench measured; a scale in
    one bench only is named. Without paths it takes the two newest, not `latest.json`."""
    old = bench_figures()
    new = copy.deepcopy(old)
    for floor in ("floor", "floor" + AGAIN):  # a slower hour: 44 and 66 s, mean 55
        new["runs"][floor]["seconds"] *= 1.1
    new["runs"]["finsync_full"]["seconds"] = 120.0
    new["full"] = {**old["full"], "steps": {**old["full"]["steps"], "dbt_models": 45.0}}
    machine = {"load_average_1m": 0.5}
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "20261101T000000Z.json").write_text(json.dumps({"machine": machine, "scales": [old]}))
    newest = {"commit": {"sha": "a1b2c3d" + "0" * 33, "dirty": True}, "machine": machine}
    newest["scales"] = [new, {**new, "scale": 1.0}]
    (bench / "20261102T000000Z.json").write_text(json.dumps(newest))
    for unread in ("latest.json", "20261031T000000Z.json"):  # a copy, and an older bench
        (bench / unread).write_text("{}")  # read, it would fail
    monkeypatch.setenv("FINSYNC_DATA_DIR", str(tmp_path))

    assert compare.main([]) == 0
    printed = capsys.readouterr().out.splitlines()

    def line(start: str) -> list[str]:
        (found,) = [text.split() for text in printed if text.strip().startswith(start)]
        return found

    assert printed[:2] == [
        "old: 20261101T000000Z.json (commit not recorded; load 0.50)",
        "new: 20261102T000000Z.json (a1b2c3d, with uncommitted changes; load 0.50)",
    ]
    assert line("floor: one DuckDB")[-5:] == ["40.0", "44.0", "1.10x", "1,024", "1,024"]
    assert line("floor again")[-5:] == ["60.0", "66.0", "1.10x", "1,024", "1,024"]
    assert line("finsync full build ")[-5:] == ["150.0", "120.0", "0.80x", "1,024", "1,024"]
    assert line("finsync full / floor")[-2:] == ["3.00x", "2.18x"]  # 120 / 55
    assert line("finsync full / pandas")[-2:] == ["1.25x", "1.00x"]
    assert line("incremental day / full")[-2:] == ["10.0%", "12.5%"]
    # full, day, nothing new: old -> new
    assert line("dbt build")[-9:] == ["60.0", "->", "45.0"] + ["60.0", "->", "60.0"] * 2
    assert line("Dagster (run start")[-9:] == ["15.0", "->", "30.0"] + ["15.0", "->", "15.0"] * 2
    assert "scale 1: only in the new bench" in printed

    assert compare.main([str(bench / "20261101T000000Z.json")]) == 0  # one: with the newest
    assert capsys.readouterr().out.splitlines()[:2] == printed[:2]
    stale = copy.deepcopy(old)  # the bench before it ran each contender twice
    del stale["runs"]["floor" + AGAIN]
    (tmp_path / "stale.json").write_text(json.dumps({"machine": machine, "scales": [stale]}))
    with pytest.raises(SystemExit):
        compare.main([str(tmp_path / "stale.json")])
    assert "without 'floor_again' was made by an older bench" in capsys.readouterr().err
    for older in ("20261031T000000Z.json", "20261101T000000Z.json"):
        (bench / older).unlink()
    with pytest.raises(SystemExit):
        compare.main([])
    assert "need two benches to compare; data/bench has 1" in capsys.readouterr().err

    head = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True)
    assert commit()["sha"] == head.stdout.decode().strip()
