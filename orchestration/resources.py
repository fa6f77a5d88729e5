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

from orchestration.paths import Paths


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
    """The memory bound dbt's profile sets, for this process's connections too.

    DuckDB's default is 80% of the machine's memory per process: the Dagster process and
    dbt's would each claim it. One step holds the warehouse at a time (the lock below), so
    each connection may use every core (DuckDB's default threads) within this bound, and
    spills to disk beyond it."""
    return {"memory_limit": os.environ.get("FINSYNC_DUCKDB_MEMORY_LIMIT", "4GB")}


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse file. Connections are short-lived: DuckDB has one writer
    process per file, and a connection left open blocks the next run's dlt and dbt."""

    path: str

    @contextmanager
    def connect(self, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        with warehouse_lock(Path(self.path)):
            con = duckdb.connect(self.path, read_only=read_only, config=duckdb_settings())
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
