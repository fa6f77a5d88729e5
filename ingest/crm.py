"""CRM (Salesforce-like): customer accounts and opportunities."""

from __future__ import annotations

from pathlib import Path

import dlt

from ingest.extracts import read_jsonl, read_parquet
from ingest.resources import files_resource
from sandbox import schemas


@dlt.source(name="crm", max_table_nesting=0)
def crm(extracts_dir: str = dlt.config.value):
    root = Path(extracts_dir) / "crm"
    yield files_resource(
        "accounts", root, "accounts.jsonl", read_jsonl, schemas.CRM_ACCOUNTS, ["id"]
    )
    yield files_resource(
        "opportunities",
        root,
        "opportunities.parquet",
        read_parquet,
        schemas.OPPORTUNITIES,
        ["id"],
    )
