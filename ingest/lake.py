"""The raw layer as Parquet files instead of DuckDB tables: dlt's filesystem destination.

One setting chooses it: `FINSYNC_LAKE_URL`, a local folder or an object-storage URL
(`s3://bucket/finsync`, `gs://...`, `az://...`; credentials through dlt's own config,
`DESTINATION__FILESYSTEM__CREDENTIALS__...`). Each `raw_<system>` dataset becomes a folder
with one sub-folder of Parquet files per table, which dbt reads on either engine (the
`lake_views` macro). Plain Parquet has no merge: a merge resource appends its new versions
and staging keeps the latest per key, as it does for any re-sent record (and drops CRM
records whose latest version says `is_deleted`, which dlt would have deleted from DuckDB).
DuckDB reads an object-storage lake through its httpfs extension, installed on first use.

The warehouse sees a lake's tables as views of the same names (`raw_erp.journal_items`),
made after every load (`publish_views`) and by dbt's runs (the `lake_views` macro), so that
the Dagster job's checks and checkpoints read the raw layer as they read dlt's tables.
"""

from __future__ import annotations

import os
from pathlib import Path

import dlt
import duckdb
from dlt.common.destination import Destination
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.extract.source import DltSource

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


MERGE_HINTS = ("dedup_sort", "hard_delete")


def as_logs(source: DltSource) -> DltSource:
    """`source` as a lake loads it: each merge resource appends (plain Parquet has no
    merge), said here rather than left to dlt's fallback, which warns on every load that it
    appends and ignores the merge's column hints."""
    for resource in source.resources.values():
        if resource.write_disposition == "merge":
            resource.apply_hints(write_disposition="append")
            for column in (resource.columns or {}).values():
                for hint in MERGE_HINTS:
                    column.pop(hint, None)
    return source


def lake_view(relation: str, folder: str) -> str:
    """The view `relation` of a table's folder of dlt load files, as the `lake_views` macro
    makes it: files of several loads matched by column name (schema evolution), and a
    `rowid` like a DuckDB table's (the file's place in the folder's listing, the row's in
    its file), by which the raw contracts name their failing rows."""
    return (
        f"create or replace view {relation} as"
        " select (file_index::bigint << 40) + file_row_number as rowid,"
        " * exclude (file_row_number)"
        f" from read_parquet('{folder}/*.parquet', union_by_name = true, file_row_number = true)"
    )


def publish_views(warehouse: Path, dataset: str) -> None:
    """Make the warehouse's views of the tables of `dataset` (`raw_erp`) the lake holds files
    of, after a load: the next steps (the raw contracts, the load's own facts) read them
    before dbt's run makes them again. dlt's own tables (`_dlt_loads` ...) are not viewed."""
    url = lake_url()
    assert url is not None, "publish_views needs a lake (FINSYNC_LAKE_URL)"
    root = f"{url.rstrip('/')}/{dataset}"
    with duckdb.connect(str(warehouse), config=duckdb_bounds()) as con:
        files = con.execute(f"select file from glob('{root}/*/*.parquet')").fetchall()
        tables = sorted({file.replace("\\", "/").split("/")[-2] for (file,) in files})
        con.execute(f"create schema if not exists {dataset}")
        for table in tables:
            if not table.startswith("_dlt"):
                con.execute(lake_view(f"{dataset}.{table}", f"{root}/{table}"))
