"""A measured finsync run's figures, completed in the bench's own process (unmeasured):
each step's seconds from the Dagster instance, dbt's busy time per layer from its
artifacts, rows per layer and GL lines from the warehouse."""

from __future__ import annotations

import json
from collections import defaultdict

import dagster as dg

from bench.measure import Measured
from orchestration.paths import Paths
from orchestration.resources import open_warehouse
from orchestration.run import rows_per_layer
from orchestration.transform import dbt_artifacts


def describe(paths: Paths, figures: dict, measured: Measured) -> dict:
    """The run's figures, completed from the instance, dbt's artifacts, the warehouse and
    the memory samples of its process tree (each step's peak: steps run one at a time)."""
    run_id = figures["run_id"]
    # the bench runs finsync with DAGSTER_HOME = <data>/dagster, whatever the bench's own is
    with dg.DagsterInstance.from_config(str(paths.data / "dagster")) as instance:
        stats = instance.get_run_step_stats(run_id)
        evaluations = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    timed = [s for s in stats if s.end_time and s.start_time]
    return {
        **figures,
        "process_s": measured.seconds,
        "peak_rss": measured.peak_rss,
        "steps": {s.step_key: s.end_time - s.start_time for s in timed},
        "step_peak_rss": {
            s.step_key: measured.peak_between(s.start_time, s.end_time) for s in timed
        },
        "step_cpu_s": {s.step_key: measured.cpu_between(s.start_time, s.end_time) for s in timed},
        "failed_steps": sorted(
            s.step_key for s in stats if s.status is not None and s.status.value == "FAILURE"
        ),
        # a run succeeds with a failing check that does not block (export reconciliation)
        "failed_checks": sorted(
            e.dagster_event.event_specific_data.asset_check_key.to_user_string()
            for e in evaluations
            if not e.dagster_event.event_specific_data.passed
        ),
        "dbt_layers": dbt_layer_seconds(paths, run_id),
        "rows": rows_per_layer(paths),
        "gl_lines": gl_lines(paths),
    }


def gl_lines(paths: Paths) -> int:
    with open_warehouse(paths.warehouse) as con:
        return con.execute("select count(*) from marts.fct_gl_journal_lines").fetchone()[0]


def dbt_layer_seconds(paths: Paths, run_id: str) -> dict[str, float]:
    """Busy seconds per layer (schema) and for tests, from the run's dbt artifacts."""
    target = dbt_artifacts(paths.data, run_id)
    if target is None or not (target / "run_results.json").exists():  # dbt did not finish
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
