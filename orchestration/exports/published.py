"""A read-only copy of the marts for BI tools: `exports/finsync.duckdb`.

DuckDB has one writer process per file, and a reader of the warehouse (even read-only)
blocks it, or is refused while a run writes. BI tools read this copy instead: after each
build whose blocking checks pass (the marts' contracts, and the reconciliation's blocking
breaks: it follows the reconciliation tables it copies) it is written anew under a
temporary name, made read-only for everyone (mode 0444) and swapped in with `os.replace`.
A reader holding the old file keeps reading it (the inode lives on until it closes); the
next connection opens the new one; no reader ever meets the writer's lock or half a file.

The copy holds the `marts` schema (dimensions, facts, finance products), `reconciliation`
when the warehouse has one, `main.publication` (the run that published it, when, and the
format it was written in) and `main.publication_parts` (what each table held, below).

Writing the copy costs in proportion to what changed. Re-encoding every table took the
whole step (scale 10: 23 s, the same on a day that changed one fiscal period), while a file
copy of the previous publication takes a fraction of that (scale 3: 0.2-0.4 s for 210 MB).
So the new file starts as a copy of the current one, and each table is brought up to date
in it:

- a table whose columns (names, types, order) differ, or that is new, is copied whole;
- every other table is compared part by part: per `period_id` when it has that (text) column and
  at least PARTITION_MIN_ROWS rows, else as one part. A part's fingerprint is its row count
  and the sum of each row's `row_digest` (DuckDB's `hash` of the whole row and of its
  text four characters on: see publish.py), an order-free digest of the multiset of rows.
  Only the warehouse side is computed: the published side is the fingerprint stored
  in `main.publication_parts` when the part was written (the file is read-only for
  everyone and written only here). A part whose fingerprint differs is deleted and
  inserted again, a part on one side only inserted or deleted; a small table, or one whose
  changed parts hold most of its rows, is replaced whole;
- a table no longer in the warehouse is dropped.

The first publication, or one over a file written in another format or by another DuckDB
version (whose `hash` may differ), copies every table, as does any failure to read the
previous file. Either way the result holds the same rows as a copy from scratch (rows may
come in another order: a BI query orders its rows itself), and readers only ever see whole
files: the copy is made under the temporary name and swapped in as before.
"""

import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.exports.publish import row_digest
from orchestration.ingest import WAREHOUSE_POOL
from orchestration.resources import Exports, Warehouse

PUBLISHED = dg.AssetKey(["exports", "published_marts"])
FILE_NAME = "finsync.duckdb"
SCHEMAS = ("marts", "reconciliation")
# Bump when what the file holds, or how parts are fingerprinted, changes: a file of another
# format is written anew rather than updated.
FORMAT = 3
PARTITION_COLUMN = "period_id"
# Below one DuckDB row group, replacing a table whole costs no more than comparing it by part.
PARTITION_MIN_ROWS = 122_880
ROW = "__published_row"  # the alias whose `row_digest` digests a whole row

Fingerprints = dict[str | None, tuple[int, int]]  # part -> (rows, sum of row digests)


@dataclass(frozen=True)
class Parts:
    """A table's fingerprints: per period (`by_period`; rows without a period are the part
    None), or for the whole table (the one part None)."""

    by_period: bool
    found: Fingerprints


@dataclass
class Publication:
    """What one publication wrote: rows per table, and what it had to rewrite."""

    rows: dict[str, int] = field(default_factory=dict)
    updated: bool = False  # False: written whole (first file, or another format)
    tables_replaced: list[str] = field(default_factory=list)
    periods_replaced: dict[str, list[str]] = field(default_factory=dict)
    tables_dropped: list[str] = field(default_factory=list)


def published_path(exports: Exports) -> Path:
    return Path(exports.root) / FILE_NAME


def quoted(name: str, catalog: str = "") -> str:
    """`schema.table` as SQL, in `catalog` when given."""
    schema, table = name.split(".", 1)
    return f'{catalog + "." if catalog else ""}{schema}."{table}"'


def tables_of(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[tuple[str, str]]]:
    """`schema.table` -> its columns (name, type) in order, for every table of SCHEMAS."""
    columns = con.execute(
        "select c.schema_name, c.table_name, c.column_name, c.data_type"
        " from duckdb_columns() as c join duckdb_tables() as t using (table_oid)"
        " where c.database_name = ? and c.schema_name in (select unnest(?))"
        " order by c.schema_name, c.table_name, c.column_index",
        [catalog, list(SCHEMAS)],
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, data_type in columns:
        tables.setdefault(f"{schema}.{table}", []).append((column, data_type))
    return tables


def fingerprints(
    con: duckdb.DuckDBPyConnection, name: str, columns: list[tuple[str, str]], by_period: bool
) -> Parts:
    """Rows and the sum of row digests in the warehouse, per period or for the whole table."""
    part = PARTITION_COLUMN if by_period else "null::varchar"
    found = con.execute(
        f"select {part}, count(*), coalesce(sum({row_digest(ROW, columns)}), 0)"
        f" from {quoted(name)} as {ROW} group by all"
    ).fetchall()
    return Parts(by_period, {key: (int(rows), int(digest)) for key, rows, digest in found})


def previous_parts(con: duckdb.DuckDBPyConnection) -> dict[str, Parts] | None:
    """The fingerprints stored in the attached previous publication, or None when it was
    written in another format or by another DuckDB version (it is then written anew)."""
    try:
        [(written_format, version)] = con.execute(
            "select format, duckdb_version from published.main.publication"
        ).fetchall()
        if (written_format, version) != (FORMAT, duckdb.__version__):
            return None
        stored = con.execute(
            "select table_name, by_period, part, row_count, fingerprint"
            " from published.main.publication_parts"
        ).fetchall()
    except duckdb.Error:  # a file of an older format has neither column nor table
        return None
    parts: dict[str, Parts] = {}
    for name, by_period, part, rows, digest in stored:
        parts.setdefault(name, Parts(by_period, {})).found[part] = (int(rows), int(digest))
    return parts


def copy_table(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute(f"create schema if not exists published.{name.split('.', 1)[0]}")
    con.execute(f"create or replace table {quoted(name, 'published')} as from {quoted(name)}")


def replace_periods(con: duckdb.DuckDBPyConnection, name: str, periods: list[str | None]) -> None:
    """Delete the published rows of `periods` and insert the warehouse's."""
    where = f"{PARTITION_COLUMN} in (select unnest(?::varchar[]))"
    if None in periods:
        where = f"({where} or {PARTITION_COLUMN} is null)"
    known = [period for period in periods if period is not None]
    con.execute(f"delete from {quoted(name, 'published')} where {where}", [known])
    con.execute(
        f"insert into {quoted(name, 'published')} from {quoted(name)} where {where}", [known]
    )


def update_tables(
    con: duckdb.DuckDBPyConnection,
    wanted: dict[str, list[tuple[str, str]]],
    previous: dict[str, Parts] | None,
) -> tuple[Publication, dict[str, Parts]]:
    """Bring the attached `published` file's tables to the warehouse's (copy them all when
    `previous` is None); return what was done and every table's fingerprints."""
    publication = Publication(updated=previous is not None)
    present = tables_of(con, "published") if previous is not None else {}
    for name in sorted(present.keys() - wanted.keys()):
        con.execute(f"drop table {quoted(name, 'published')}")
        publication.tables_dropped.append(name)
    schemas = {name.split(".", 1)[0] for name in wanted}
    for schema in sorted({name.split(".", 1)[0] for name in present} - schemas):
        con.execute(f"drop schema published.{schema}")
    parts: dict[str, Parts] = {}
    for name, columns in wanted.items():
        [(rows,)] = con.execute(f"select count(*) from {quoted(name)}").fetchall()
        by_period = rows >= PARTITION_MIN_ROWS and (PARTITION_COLUMN, "VARCHAR") in columns
        parts[name] = now = fingerprints(con, name, columns, by_period)
        before = (previous or {}).get(name)
        publication.rows[name] = rows
        if before is not None and before == now and present.get(name) == columns:
            continue
        if (
            before is None
            or present.get(name) != columns
            or not by_period
            or before.by_period != by_period
        ):
            copy_table(con, name)  # new, of another shape, small, or compared otherwise before
            publication.tables_replaced.append(name)
            continue
        changed = [
            period
            for period in sorted(
                now.found.keys() | before.found.keys(), key=lambda p: (p is None, p or "")
            )
            if now.found.get(period) != before.found.get(period)
        ]
        if 2 * sum(now.found.get(period, (0, 0))[0] for period in changed) > rows:
            copy_table(con, name)  # most of it changed: writing it whole is cheaper
            publication.tables_replaced.append(name)
            continue
        replace_periods(con, name, changed)
        publication.periods_replaced[name] = [str(period) for period in changed]
    return publication, parts


def store_parts(con: duckdb.DuckDBPyConnection, parts: dict[str, Parts]) -> None:
    """Every table's fingerprints, in `main.publication_parts`: the next publication
    compares the warehouse to these instead of reading every published row again."""
    rows = [
        (name, table.by_period, part, count, digest)
        for name, table in sorted(parts.items())
        for part, (count, digest) in table.found.items()
    ]
    con.execute(
        "create or replace table published.main.publication_parts as select"
        " unnest(?::varchar[]) as table_name, unnest(?::boolean[]) as by_period,"
        " unnest(?::varchar[]) as part, unnest(?::bigint[]) as row_count,"
        " unnest(?::hugeint[]) as fingerprint",
        [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * 5,
    )


def publish_database(con: duckdb.DuckDBPyConnection, target: Path, run_id: str) -> Publication:
    """Bring a copy of the published file (or a new file) to every table of SCHEMAS in the
    warehouse, then swap it in."""
    [(catalog,)] = con.execute("select current_database()").fetchall()
    wanted = tables_of(con, catalog)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    partial.with_name(f"{partial.name}.wal").unlink(missing_ok=True)
    previous = None
    if target.exists():
        shutil.copyfile(target, partial)  # copy_file_range: no re-encoding; new and writable
        try:
            con.execute(f"attach '{partial}' as published (read_only false)")
            previous = previous_parts(con)
        except duckdb.Error:  # not a database this DuckDB reads: written anew
            previous = None
        if previous is None:  # written in another format: start from an empty file
            con.execute("detach database if exists published")
            partial.unlink()
    if previous is None:
        con.execute(f"attach '{partial}' as published (read_only false)")
    try:
        publication, parts = update_tables(con, wanted, previous)
        store_parts(con, parts)
        con.execute(
            "create or replace table published.main.publication as"
            " select ? as run_id, ? as published_at, ? as format, ? as duckdb_version",
            [run_id, datetime.now(UTC), FORMAT, duckdb.__version__],
        )
    except BaseException:
        con.execute("detach published")
        partial.unlink(missing_ok=True)
        raise
    con.execute("detach published")  # checkpoints: the file is complete, no WAL beside it
    partial.chmod(0o444)
    os.replace(partial, target)
    return publication


def published_marts(*upstream: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """The asset, downstream of every table it copies (the marts, the reconciliation's
    tables), so that it follows each build and never publishes a table of the run before."""
    keys = {key for assets in upstream for key in assets.keys if key.path[0] in SCHEMAS}
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
        " Only the tables and fiscal periods that changed are rewritten.",
    )
    def published(
        context: dg.AssetExecutionContext, warehouse: Warehouse, exports: Exports
    ) -> dg.MaterializeResult:
        target = published_path(exports)
        with warehouse.connect() as con:
            publication = publish_database(con, target, context.run.run_id)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(target)),
                "tables": len(publication.rows),
                "dagster/row_count": sum(publication.rows.values()),
                "rows_by_table": dg.MetadataValue.json(publication.rows),
                "updated_in_place": publication.updated,
                "tables_replaced": dg.MetadataValue.json(publication.tables_replaced),
                "periods_replaced": dg.MetadataValue.json(publication.periods_replaced),
                "tables_dropped": dg.MetadataValue.json(publication.tables_dropped),
                "retries": context.retry_number,
            }
        )

    return published
