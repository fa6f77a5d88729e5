"""The raw layer as Parquet files instead of DuckDB tables: dlt's filesystem destination.

One setting chooses it: `FINSYNC_LAKE_URL`, a local folder or an object-storage URL
(`s3://bucket/finsync`, `gs://...`, `az://...`; credentials through dlt's own config,
`DESTINATION__FILESYSTEM__CREDENTIALS__...`). Each `raw_<system>` dataset becomes a folder
with one sub-folder of Parquet files per table, which dbt reads on either engine (the
`lake_views` macro). Plain Parquet has no merge: a merge resource appends its new versions
and staging keeps the latest per key, as it does for any re-sent record (and drops CRM
records whose latest version says `is_deleted`, which dlt would have deleted from DuckDB).
DuckDB reads an object-storage lake through its httpfs extension, installed on first use.
"""

from __future__ import annotations

import os
from pathlib import Path

import dlt
from dlt.common.destination import Destination
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from ingest.duckdb_bounds import duckdb_bounds

LAKE_URL = "FINSYNC_LAKE_URL"


def lake_url() -> str | None:
    """The configured lake, or None for the default: raw tables in the DuckDB warehouse."""
    return os.environ.get(LAKE_URL) or None


def raw_destination(warehouse: Path) -> Destination:
    """Where dlt writes `raw_<system>`: the lake when one is configured, else the warehouse."""
    url = lake_url()
    if url is None:
        return dlt.destinations.duckdb(
            credentials=DuckDbCredentials(str(warehouse), global_config=duckdb_bounds())
        )
    return dlt.destinations.filesystem(bucket_url=url)
