"""One finsync run, as the bench measures it: `python -m bench.finsync full|incremental OUT`.

`full` builds from an empty warehouse: the source systems start on loopback and the
main job loads, transforms, checks and exports everything. `incremental` starts the
same systems, lets one business day pass (new postings, a reversal, close milestones)
and runs what the daily schedule runs, the actuals sync for the open period, on the
warehouse the full build left. The figures go to OUT as
JSON: the job's wall time, each step's, and dbt's time per layer from its
run_results.json (busy seconds per node; two threads overlap them).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.definitions import build
from orchestration.jobs import ACTUALS_JOB, MAIN_JOB
from orchestration.paths import DBT_PROJECT_DIR, Paths
from orchestration.run import QUIET, instance_for, rows_per_layer
from sandbox.api import Enterprise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("phase", choices=["full", "incremental"])
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    paths = Paths.from_env()
    figures: dict[str, object] = {"phase": args.phase}
    started = time.perf_counter()
    with Enterprise(paths.extracts) as systems, instance_for(paths) as instance:
        figures["simulators_s"] = time.perf_counter() - started
        os.environ.update(systems.env())
        job, partition = MAIN_JOB, None
        if args.phase == "incremental":
            # what the daily schedule does: the actuals sync for the open period
            figures["changes"] = systems.advance_business_day()
            job, partition = ACTUALS_JOB, f"{systems.erp.today:%Y-%m}"
        figures["job"], figures["partition"] = job, partition
        job_started = time.perf_counter()
        result = (
            build(paths)
            .resolve_job_def(job)
            .execute_in_process(
                instance=instance, raise_on_error=False, run_config=QUIET, partition_key=partition
            )
        )
        figures["job_s"] = time.perf_counter() - job_started
        figures["steps"] = step_seconds(instance, result.run_id)
        figures["failed_steps"] = sorted(
            stats.step_key
            for stats in instance.get_run_step_stats(result.run_id)
            if stats.status is not None and stats.status.value == "FAILURE"
        )
    figures["success"] = result.success
    figures["dbt_layers"] = dbt_layer_seconds(result.run_id)
    figures["rows"] = rows_per_layer(paths)
    figures["gl_lines"] = gl_lines(paths)
    # a failed run still has figures: the bench reports which steps failed
    args.out.write_text(json.dumps(figures, indent=2, default=str))


def gl_lines(paths: Paths) -> int:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.execute("select count(*) from marts.fct_gl_journal_lines").fetchone()[0]


def step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    return {
        stats.step_key: stats.end_time - stats.start_time
        for stats in instance.get_run_step_stats(run_id)
        if stats.end_time and stats.start_time
    }


def dbt_layer_seconds(run_id: str) -> dict[str, float]:
    """Busy seconds per layer (schema) and for tests, from the run's dbt artifacts.

    dagster-dbt writes each invocation's artifacts to `target/<op>-<run id[:7]>-<uuid>`."""
    found = sorted((DBT_PROJECT_DIR / "target").glob(f"dbt_models-{run_id[:7]}-*"))
    if not found:
        return {}
    target = found[-1]
    if not (target / "run_results.json").exists():  # dbt did not finish
        return {}
    results = json.loads((target / "run_results.json").read_text())
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    layers: dict[str, float] = defaultdict(float)
    for result in results["results"]:
        node = nodes.get(result["unique_id"], {})
        kind = node.get("resource_type", result["unique_id"].split(".")[0])
        layer = "tests" if kind in {"test", "unit_test"} else node.get("schema", kind)
        layers[layer] += result["execution_time"]
    layers["elapsed"] = results["elapsed_time"]
    return dict(layers)


if __name__ == "__main__":
    main()
