"""A read-only copy of the marts for BI tools: `exports/finsync.duckdb`.

DuckDB has one writer process per file, and a reader of the warehouse (even read-only)
blocks it, or is refused while a run writes. BI tools read this copy instead: after each
build whose blocking checks pass it is written anew under a temporary name, made
read-only for everyone (mode 0444) and swapped in with `os.replace`. A reader holding
the old file keeps reading it (the inode lives on until it closes); the next connection
opens the new one; no reader ever meets the writer's lock or half a file.

The copy holds the `marts` schema (dimensions, facts, finance products), `reconciliation`
when the warehouse has one, and `main.publication`: the run that published it, and when.
"""

import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.ingest import WAREHOUSE_POOL
from orchestration.resources import Exports, Warehouse

PUBLISHED = dg.AssetKey(["exports", "published_marts"])
FILE_NAME = "finsync.duckdb"
SCHEMAS = ("marts", "reconciliation")


def published_path(exports: Exports) -> Path:
    return Path(exports.root) / FILE_NAME


def publish_database(con: duckdb.DuckDBPyConnection, target: Path, run_id: str) -> dict[str, int]:
    """Copy every table of SCHEMAS into a new file, then swap it in. Returns rows per table."""
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables"
        " where table_schema in (select unnest(?)) and table_type = 'BASE TABLE'"
        " order by all",
        [list(SCHEMAS)],
    ).fetchall()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    rows = {}
    con.execute(f"attach '{partial}' as published (read_only false)")
    try:
        for schema in sorted({schema for schema, _ in tables}):
            con.execute(f"create schema published.{schema}")
        for schema, table in tables:
            con.execute(
                f'create table published.{schema}."{table}" as select * from {schema}."{table}"'
            )
            [(count,)] = con.execute(
                f'select count(*) from published.{schema}."{table}"'
            ).fetchall()
            rows[f"{schema}.{table}"] = count
        con.execute(
            "create table published.main.publication as select ? as run_id, ? as published_at",
            [run_id, datetime.now(UTC)],
        )
    except BaseException:
        con.execute("detach published")
        partial.unlink(missing_ok=True)
        raise
    con.execute("detach published")  # checkpoints: the file is complete, no WAL beside it
    partial.chmod(0o444)
    os.replace(partial, target)
    return rows


def published_marts(dbt_models: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """The asset, downstream of every mart, so that it follows each build."""
    deps = sorted((key for key in dbt_models.keys if key.path[0] in SCHEMAS), key=lambda k: k.path)

    @dg.asset(
        key=PUBLISHED,
        deps=deps,
        group_name="exports",
        kinds={"duckdb"},
        pool=WAREHOUSE_POOL,
        retry_policy=dg.RetryPolicy(max_retries=2, delay=2),
        automation_condition=dg.AutomationCondition.eager(),
        description="A read-only copy of the marts for BI tools (`exports/finsync.duckdb`),"
        " swapped in atomically after each build: readers never meet the writer's lock.",
    )
    def published(
        context: dg.AssetExecutionContext, warehouse: Warehouse, exports: Exports
    ) -> dg.MaterializeResult:
        target = published_path(exports)
        with warehouse.connect() as con:
            rows = publish_database(con, target, context.run.run_id)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(target)),
                "tables": len(rows),
                "dagster/row_count": sum(rows.values()),
                "rows_by_table": dg.MetadataValue.json(rows),
                "retries": context.retry_number,
            }
        )

    return published
