"""One finsync run, as the bench measures it: `python -m bench.finsync PHASE OUT`.

The source systems already serve on loopback (bench/systems.py; their addresses and
credentials are in the environment). `full` builds from an empty warehouse: the main job
loads, transforms, checks and exports everything. `incremental` runs, on the warehouse
the full build left and after one business day passed in the sources, what the daily
schedule runs: the actuals sync as the schedule's tick on that day requests it (`--day`).
`unchanged` runs that job again with nothing new in the sources: what a daily run costs
before the day's data, the part of it no amount of data takes away. `smallest` builds one
small mart (`dim_legal_entity`, with its dbt tests and its contract) and nothing else:
what any run of finsync costs before its work (a process, Dagster's run, dbt's start),
the least a smaller daily job could take. The measured process does what a user's run
does and no more; OUT gets the job's wall time and run id, and `describe` (in the bench's
process, unmeasured) adds each step's seconds, dbt's time per layer and the rows per layer.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

import dagster as dg

from orchestration.automation import actuals_request
from orchestration.graph import build
from orchestration.jobs import ACTUALS_JOB, MAIN_JOB, with_dbt_tests_reading
from orchestration.paths import Paths
from orchestration.run import QUIET, instance_for
from orchestration.transform import dbt_models

# the least a run does: one small mart, its dbt tests and its contract (a bench-only job)
SMALLEST_JOB = "bench_smallest_run"
SMALLEST_MART = dg.AssetKey(["marts", "dim_legal_entity"])
JOBS = {
    "full": MAIN_JOB,
    "incremental": ACTUALS_JOB,
    "unchanged": ACTUALS_JOB,
    "smallest": SMALLEST_JOB,
}


def definitions(paths: Paths) -> dg.Definitions:
    """finsync's definitions, with the bench's smallest job beside its own jobs, made as
    they are (`with_dbt_tests_reading`: the relationships tests that read the mart are
    checks of the run, not observations logged with a warning)."""
    finsync = build(paths)
    assets = [asset for asset in finsync.assets or [] if isinstance(asset, dg.AssetsDefinition)]
    smallest = dg.define_asset_job(
        SMALLEST_JOB,
        selection=with_dbt_tests_reading(
            dg.AssetSelection.assets(SMALLEST_MART), assets, dbt_models
        ),
    )
    return dg.Definitions.merge(finsync, dg.Definitions(jobs=[smallest]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("phase", choices=list(JOBS))
    parser.add_argument("out", type=Path)
    parser.add_argument(
        "--day",
        type=date.fromisoformat,
        help="the daily job's day (incremental, unchanged): run as its schedule's tick runs it",
    )
    args = parser.parse_args()
    paths = Paths.from_env()
    job = JOBS[args.phase]
    request = actuals_request(args.day) if args.day else dg.RunRequest()
    with instance_for(paths) as instance:
        started = time.perf_counter()
        result = (
            definitions(paths)
            .resolve_job_def(job)
            .execute_in_process(
                instance=instance,
                raise_on_error=False,
                run_config=QUIET,
                partition_key=request.partition_key,
                tags=request.tags,
            )
        )
        figures = {
            "phase": args.phase,
            "job": job,
            "day": args.day,
            "partition": request.partition_key,
            "tags": request.tags,
            "job_s": time.perf_counter() - started,
            "run_id": result.run_id,
            "success": result.success,
        }
    # a failed run still has figures: the bench reports which steps failed
    args.out.write_text(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
