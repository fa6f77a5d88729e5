"""One dlt pipeline per source system, each into its own `raw_<system>` dataset."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.extract.source import DltSource

from ingest.crm import crm
from ingest.erp import erp
from ingest.fpa import fpa
from ingest.payroll import payroll
from ingest.regional_erp import regional_erp

SOURCES: dict[str, Callable[..., DltSource]] = {
    "erp": erp,
    "regional_erp": regional_erp,
    "payroll": payroll,
    "crm": crm,
    "fpa": fpa,
}


def pipeline(system: str, warehouse: Path, pipelines_dir: Path) -> dlt.Pipeline:
    """The pipeline of `system`; its state (loaded files, cursors) lives under `pipelines_dir`."""
    return dlt.pipeline(
        pipeline_name=f"finsync_{system}",
        destination=dlt.destinations.duckdb(credentials=str(warehouse)),
        dataset_name=f"raw_{system}",
        pipelines_dir=str(pipelines_dir),
    )


def load(system: str, extracts_dir: Path, warehouse: Path, pipelines_dir: Path) -> LoadInfo:
    source = SOURCES[system](extracts_dir=str(extracts_dir))
    info = pipeline(system, warehouse, pipelines_dir).run(source)
    info.raise_on_failed_jobs()
    return info
