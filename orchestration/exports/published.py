"""A read-only copy of the marts for BI tools: `exports/finsync.duckdb`.

DuckDB has one writer process per file, and a reader of the warehouse (even read-only)
blocks it, or is refused while a run writes. BI tools read this copy instead: after each
build whose blocking checks pass (the marts' contracts, and the reconciliation's blocking
breaks: it follows the reconciliation tables it copies) it is written anew under a
temporary name, made read-only for everyone (mode 0444) and swapped in with `os.replace`.
A reader holding the old file keeps reading it (the inode lives on until it closes); the
next connection opens the new one; no reader ever meets the writer's lock or half a file.

The copy holds the `marts` schema (dimensions, facts, finance products), `reconciliation`
when the warehouse has one, and `main.publication` (the run that published it, when, and
the DuckDB version that wrote it).

dbt writes the marts to a file of their own (`marts.duckdb`, attached to every warehouse
connection: orchestration/resources.py), so the copy starts as a copy of that file, its
blocks as they are: no row is read or encoded again. Copying the tables into a new file
cost the whole step (scale 10: 10-13 s, nearly all of it the GL lines), and comparing
fingerprints to rewrite only what changed still read every row. The reconciliation's
tables are small and are copied in as tables. The marts' file is checkpointed first, so
the copy holds every committed row and no write-ahead log is left beside it.
"""

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.ingest import WAREHOUSE_POOL
from orchestration.resources import MARTS_CATALOG, Exports, Warehouse

PUBLISHED = dg.AssetKey(["exports", "published_marts"])
FILE_NAME = "finsync.duckdb"
COPIED = "reconciliation"  # the warehouse's schema copied in beside the marts
CATALOG = "published"  # the new file, as attached while it is written


def published_path(exports: Exports) -> Path:
    return Path(exports.root) / FILE_NAME


def tables_of(con: duckdb.DuckDBPyConnection, catalog: str, schemas: list[str]) -> list[str]:
    """`schema.table` of every table of `schemas` in `catalog`, in order."""
    return [
        f"{schema}.{table}"
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables()"
            " where database_name = ? and schema_name in (select unnest(?)) order by all",
            [catalog, schemas],
        ).fetchall()
    ]


def quoted(name: str, catalog: str) -> str:
    schema, table = name.split(".", 1)
    return f'{catalog}.{schema}."{table}"'


def publish_database(con: duckdb.DuckDBPyConnection, target: Path, run_id: str) -> dict[str, int]:
    """Copy the marts' file to a temporary name beside `target`, add the reconciliation's
    tables and the publication record, and swap it in. Returns the rows of every table."""
    [(marts_path,)] = con.execute(
        "select path from duckdb_databases() where database_name = ?", [MARTS_CATALOG]
    ).fetchall()
    [(warehouse,)] = con.execute("select current_database()").fetchall()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    partial.with_name(f"{partial.name}.wal").unlink(missing_ok=True)
    con.execute(f"checkpoint {MARTS_CATALOG}")  # every committed row in the file itself
    shutil.copyfile(marts_path, partial)  # copy_file_range: blocks as they are
    con.execute(f"attach '{partial}' as {CATALOG}")
    try:
        for name in tables_of(con, warehouse, [COPIED]):
            con.execute(f"create schema if not exists {CATALOG}.{COPIED}")
            con.execute(f"create table {quoted(name, CATALOG)} as from {quoted(name, warehouse)}")
        rows = {
            name: con.execute(f"select count(*) from {quoted(name, CATALOG)}").fetchall()[0][0]
            for name in tables_of(con, CATALOG, ["marts", COPIED])
        }
        con.execute(
            f"create table {CATALOG}.main.publication as"
            " select ? as run_id, ? as published_at, ? as duckdb_version",
            [run_id, datetime.now(UTC), duckdb.__version__],
        )
    except BaseException:
        con.execute(f"detach {CATALOG}")
        partial.unlink(missing_ok=True)
        raise
    con.execute(f"detach {CATALOG}")  # checkpoints: the file is complete, no WAL beside it
    partial.chmod(0o444)
    os.replace(partial, target)
    return rows


def published_marts(*upstream: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """The asset, downstream of every table it copies (the marts, the reconciliation's
    tables), so that it follows each build and never publishes a table of the run before."""
    keys = {key for assets in upstream for key in assets.keys if key.path[0] in ("marts", COPIED)}
    deps = sorted(keys, key=lambda k: k.path)

    @dg.asset(
        key=PUBLISHED,
        deps=deps,
        group_name="exports",
        kinds={"duckdb"},
        pool=WAREHOUSE_POOL,
        retry_policy=dg.RetryPolicy(max_retries=2, delay=2),
        automation_condition=dg.AutomationCondition.eager(),
        description="A read-only copy of the marts for BI tools (`exports/finsync.duckdb`),"
        " swapped in atomically after each build: readers never meet the writer's lock."
        " A file copy of the marts' own DuckDB file, with the reconciliation's tables.",
    )
    def published(
        context: dg.AssetExecutionContext, warehouse: Warehouse, exports: Exports
    ) -> dg.MaterializeResult:
        target = published_path(exports)
        with warehouse.connect(read_only=False) as con:
            rows = publish_database(con, target, context.run.run_id)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(target)),
                "bytes": target.stat().st_size,
                "tables": len(rows),
                "dagster/row_count": sum(rows.values()),
                "rows_by_table": dg.MetadataValue.json(rows),
                "retries": context.retry_number,
            }
        )

    return published
