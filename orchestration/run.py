"""`make run`: generate the demo enterprise if absent, materialize everything headless
through Dagster, and print what a controller wants to know first."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

import dagster as dg

from orchestration.checks.suites import WATERMARKS
from orchestration.jobs import MAIN_JOB
from orchestration.paths import Paths
from orchestration.reconciliation.status import BREAK, OK, STATUS
from orchestration.resources import open_warehouse
from sandbox.api import Enterprise
from sandbox.generate import generate

LAYERS = (
    "raw_erp",
    "raw_regional_erp",
    "raw_payroll",
    "raw_crm",
    "raw_fpa",
    "staging",
    "intermediate",
    "marts",
    "quarantine",
    "reconciliation",
)


# Step events are DEBUG: the console shows progress and problems, the UI keeps everything.
QUIET = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    paths = Paths.from_env()
    ensure_demo_enterprise(paths, args.scale, args.seed)

    # the source systems serve on loopback for the run: deltas and master data come
    # through their APIs, the ERP's journal history from its bulk extracts
    from orchestration.graph import build  # the whole graph: only for a run

    with Enterprise(paths.extracts) as systems, instance_for(paths) as instance:
        os.environ.update(systems.env())
        result = (
            build(paths)
            .resolve_job_def(MAIN_JOB)
            .execute_in_process(instance=instance, raise_on_error=False, run_config=QUIET)
        )
    print(summary(result, paths))
    return 0 if result.success else 1


def ensure_demo_enterprise(paths: Paths, scale: float, seed: int) -> None:
    """Generate the demo enterprise's extracts unless a previous run left them."""
    if not (paths.extracts / "manifest.json").exists():
        print(f"generating the demo enterprise (scale {scale}) into {paths.extracts}")
        generate(paths.extracts, scale=scale, seed=seed)


def instance_for(paths: Paths) -> dg.DagsterInstance:
    """$DAGSTER_HOME's instance (default: under the data dir), so `make dev` shows this run."""
    home = Path(os.environ.get("DAGSTER_HOME") or paths.data / "dagster")
    home.mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.from_config(str(home))


def summary(result: dg.ExecuteInProcessResult, paths: Paths) -> str:
    checks = result.get_asset_check_evaluations()
    failed = sorted(c.asset_check_key.to_user_string() for c in checks if not c.passed)
    lines = [
        f"run {result.run_id}: {'succeeded' if result.success else 'FAILED'}",
        "",
        "rows per layer:",
    ]
    lines += [f"  {layer:<18} {rows:>12,}" for layer, rows in rows_per_layer(paths).items()]
    lines += ["", f"checks: {len(checks) - len(failed)} passed, {len(failed)} failed"]
    lines += [f"  failed: {name}" for name in failed]
    lines += ["", f"reconciliation: {reconciled(paths)}"]
    lines += ["", "exports:"]
    lines += [
        f"  {paths.exports / name}  ({count} file{'s' if count > 1 else ''})"
        for name, count in exported(paths).items()
    ]
    return "\n".join(lines)


def reconciled(paths: Paths) -> str:
    """Keys that tie and open breaks, as the status table has them now."""
    with open_warehouse(paths.warehouse) as con:
        counts = dict(con.execute(f"select status, count(*) from {STATUS} group by all").fetchall())
    return f"{counts.get(OK, 0):,} keys tie, {counts.get(BREAK, 0):,} open breaks"


def exported(paths: Paths) -> dict[str, int]:
    """Files per dataset: a top-level file, or a folder two levels down (fpa/actuals,
    reporting/trial_balance with its period partitions)."""
    counts: Counter[str] = Counter()
    for path in paths.exports.rglob("*"):
        if path.is_file():
            parts = path.relative_to(paths.exports).parts
            counts["/".join(parts[:2]) + "/" if len(parts) > 2 else "/".join(parts)] += 1
    return dict(sorted(counts.items()))


def rows_per_layer(paths: Paths) -> dict[str, int]:
    with open_warehouse(paths.warehouse) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema in (select unnest(?))"
            " and table_name not like '\\_dlt%' escape '\\'"
            # the contracts' bookkeeping, not rows of a layer
            " and table_schema || '.' || table_name <> ?",
            [list(LAYERS), WATERMARKS],
        ).fetchall()
        counts = dict.fromkeys(LAYERS, 0)
        for schema, table in tables:
            counts[schema] += con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[
                0
            ]
    return counts


if __name__ == "__main__":
    sys.exit(main())
