"""Resources shared by the assets: the warehouse file, dbt and dlt."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dlt import DagsterDltResource

from ingest.duckdb_bounds import duckdb_bounds
from orchestration.paths import Paths, marts_file

MARTS_CATALOG = "marts_db"  # the marts' file, as dbt's profile attaches it


@contextmanager
def warehouse_lock(warehouse: Path) -> Iterator[None]:
    """Hold an exclusive lock beside the warehouse file while this process has it open.

    The `warehouse` pool queues warehouse steps, but the SQLite instance claims a pool
    slot without a row lock: two runs starting in the same instant can both get the one
    slot (tests/test_concurrency.py caught it). The lock makes the second wait instead
    of meeting DuckDB's file lock. Not re-entrant: open the warehouse once per step.
    """
    lock = warehouse.with_name(f"{warehouse.name}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def duckdb_settings() -> dict[str, str]:
    """How this process's warehouse connections use the machine: set, not left to defaults.

    - `memory_limit` 2GB (`FINSYNC_DUCKDB_MEMORY_LIMIT` overrides it, as it does dbt's 4GB):
      DuckDB's default is 80% of the machine per process, and the Dagster process and dbt's
      subprocess would each claim it. Nothing here needs more: the contracts' table-wide
      rules are aggregates, the exports read one fiscal period at a time, the published copy
      is a file copy; beyond the limit DuckDB spills to disk. The contracts' polars
      batches (orchestration/checks/suites.py) are outside DuckDB's count and bounded apart.
    - `threads`: every core this process may run on. One step holds the warehouse at a time
      (`warehouse_lock`), and dbt's subprocess runs in a step of its own, so a connection
      does not compete with another step's query for them; a step's own cursors (the exports
      write two periods at once) share the connection's pool of threads.
    - `preserve_insertion_order` stays true (DuckDB's default): a query without `order by`
      returns a table's rows in their order, which a reader here may count on (a contract's
      failing sample is in the table's order). The exports that compare bytes order their
      rows themselves (the FP&A files: same marts, same bytes); the reporting files compare
      rows (a fingerprint), so their period files are written with it off
      (`exports.publish.in_any_order`).
    """
    return {
        **duckdb_bounds(),  # the same bound as dlt's connections in this process
        "threads": str(len(os.sched_getaffinity(0))),
        "preserve_insertion_order": "true",
    }


def open_warehouse(
    warehouse: Path | str, read_only: bool = True, config: dict[str, str] | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse file with the marts' file attached as MARTS_CATALOG.

    dbt writes the `marts` schema to a file of its own (`marts.duckdb` beside the
    warehouse: its profile attaches the same file), so that the copy BI tools read is a
    file copy of it, not ten million rows encoded again (orchestration/exports/published.py).
    The search path names the warehouse's `main` and that catalog's `marts`, so
    `marts.<table>` reads the marts' file, as it read the warehouse's schema before (a
    `marts` schema left in an old warehouse is not on the path: dbt drops it,
    macros/retire_warehouse_marts.sql). A read-only connection attaches the file only
    once a build has made it."""
    con = duckdb.connect(str(warehouse), read_only=read_only, config=config or {})
    try:
        marts = marts_file(Path(warehouse))
        if not read_only or marts.exists():
            mode = " (read_only)" if read_only else ""
            con.execute(f"attach if not exists '{marts}' as {MARTS_CATALOG}{mode}")
            if not read_only:  # so that the search path can name it before dbt made it
                con.execute(f"create schema if not exists {MARTS_CATALOG}.marts")
            [(catalog, made)] = con.execute(
                "select current_database(), count(*) from duckdb_schemas()"
                " where database_name = ? and schema_name = 'marts'",
                [MARTS_CATALOG],
            ).fetchall()
            if made:
                con.execute(f"set search_path = '{catalog}.main,{MARTS_CATALOG}.marts'")
    except BaseException:
        con.close()
        raise
    return con


def cursor_of(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of `con` that reads `marts.<table>` as `con` does: DuckDB gives a cursor
    the connection's database and attachments, not its search path."""
    [(search_path,)] = con.execute("select current_setting('search_path')").fetchall()
    cursor = con.cursor()
    cursor.execute(f"set search_path = '{search_path}'")
    return cursor


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse file. Connections are short-lived: DuckDB has one writer
    process per file, and a connection left open blocks the next run's dlt and dbt."""

    path: str

    @contextmanager
    def connect(self, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        with warehouse_lock(Path(self.path)):
            con = open_warehouse(self.path, read_only=read_only, config=duckdb_settings())
            try:
                yield con
            finally:
                con.close()


class Exports(dg.ConfigurableResource):
    """Where published files go: the planning tool's imports and the BI datasets."""

    root: str

    @property
    def fpa(self) -> Path:
        return Path(self.root) / "fpa"

    @property
    def reporting(self) -> Path:
        return Path(self.root) / "reporting"


def resources(paths: Paths) -> dict[str, dg.ConfigurableResource]:
    # here, not at the top: transform's translator imports automation, whose jobs import the
    # export assets, which import this module's resources
    from orchestration.transform import DBT_PROJECT, InstalledDbt

    return {
        "dbt": InstalledDbt(project_dir=DBT_PROJECT),
        "dlt": DagsterDltResource(),
        "warehouse": Warehouse(path=str(paths.warehouse)),
        "exports": Exports(root=str(paths.exports)),
    }
