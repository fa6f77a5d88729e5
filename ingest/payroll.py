"""Payroll (Workday-like): workers and payroll results per pay period."""

from __future__ import annotations

from pathlib import Path

import dlt

from ingest.extracts import read_jsonl, read_parquet
from ingest.resources import files_resource
from sandbox import schemas


@dlt.source(name="payroll", max_table_nesting=0)
def payroll(extracts_dir: str = dlt.config.value):
    """Workers carry PII: raw_payroll is the only place it lands; staging drops it."""
    root = Path(extracts_dir) / "payroll"
    yield files_resource(
        "workers", root, "workers.jsonl", read_jsonl, schemas.WORKERS, ["worker_id"]
    )
    yield files_resource(
        "payroll_results",
        root,
        "payroll_results.parquet",
        read_parquet,
        schemas.PAYROLL_RESULTS,
        ["payroll_result_id"],
    )
