"""FP&A (Anaplan-like): plan versions and plan lines."""

from __future__ import annotations

from pathlib import Path

import dlt

from ingest.extracts import read_jsonl, read_parquet
from ingest.resources import files_resource
from sandbox import schemas


@dlt.source(name="fpa", max_table_nesting=0)
def fpa(extracts_dir: str = dlt.config.value):
    root = Path(extracts_dir) / "fpa"
    yield files_resource(
        "plan_versions",
        root,
        "plan_versions.jsonl",
        read_jsonl,
        schemas.PLAN_VERSIONS,
        ["version"],
    )
    yield files_resource(
        "plan_lines",
        root,
        "plan_lines.parquet",
        read_parquet,
        schemas.PLAN_LINES,
        ["version", "entity", "account", "cost_center", "month"],
    )
