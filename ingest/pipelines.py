"""One dlt pipeline per source system, each into its own `raw_<system>` dataset.

File-fed sources read `extracts_dir`; API sources find their base URL and
credentials in dlt config (`sources.<system>.base_url`, env `SOURCES__<SYSTEM>__...`).
"""

from __future__ import annotations

from pathlib import Path

import dlt
from dlt.common.destination import Destination
from dlt.common.pipeline import LoadInfo
from dlt.extract.source import DltSource

from ingest.api import RequestLog
from ingest.crm import crm
from ingest.erp import erp
from ingest.fpa import fpa
from ingest.lake import as_logs, lake_url, publish_views, raw_destination
from ingest.payroll import payroll
from ingest.regional_erp import regional_erp

SOURCES = ("erp", "regional_erp", "payroll", "crm", "fpa")
API_SYSTEMS = ("erp", "payroll", "crm", "fpa")


def source(system: str, extracts_dir: Path, request_log: RequestLog | None = None) -> DltSource:
    """`system`'s dlt source; for a lake, with every table a log (ingest/lake.py)."""
    if system == "erp":
        found = erp(extracts_dir=str(extracts_dir), request_log=request_log)
    elif system == "regional_erp":
        found = regional_erp(extracts_dir=str(extracts_dir))
    else:
        found = {"payroll": payroll, "crm": crm, "fpa": fpa}[system](request_log=request_log)
    return as_logs(found) if lake_url() else found


def pipeline(
    system: str, warehouse: Path, pipelines_dir: Path, destination: Destination | None = None
) -> dlt.Pipeline:
    """The pipeline of `system`; its state (loaded files, cursors) lives under `pipelines_dir`.
    It loads into `warehouse`, or into the Parquet lake when one is configured (ingest/lake.py)."""
    return dlt.pipeline(
        pipeline_name=f"finsync_{system}",
        destination=destination or raw_destination(warehouse),
        dataset_name=f"raw_{system}",
        pipelines_dir=str(pipelines_dir),
    )


def load(system: str, extracts_dir: Path, warehouse: Path, pipelines_dir: Path) -> LoadInfo:
    """API pages arrive as dicts: parquet load files are ~10x faster than insert statements."""
    dlt_pipeline = pipeline(system, warehouse, pipelines_dir)
    info = dlt_pipeline.run(source(system, extracts_dir), loader_file_format="parquet")
    info.raise_on_failed_jobs()
    if lake_url():
        publish_views(warehouse, dlt_pipeline.dataset_name)
    return info
