"""Publishing one file per fiscal period, so that a backfill touches only its own period.

A partitioned run (a schedule tick, a backfill) publishes the periods of its
partitions. An unpartitioned run (`make run`, the main job) publishes every period
the warehouse knows, and records each as a materialization of its partition, so the
UI shows which periods are published either way.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from queue import Queue

import dagster as dg
import duckdb

from orchestration.partitions import fiscal_periods, partition_key, period_id
from orchestration.resources import cursor_of

WRITERS = 2  # periods written at once


def periods_of_run(
    context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection
) -> dict[str, str]:
    """Partition key -> fiscal period id, for the periods this run publishes."""
    if context.has_partition_key_range or context.has_partition_key:
        return {key: period_id(key) for key in context.partition_keys}
    known = set(fiscal_periods.get_partition_keys())
    rows = con.execute(
        "select calendar_year, calendar_month from marts.dim_fiscal_period order by period_index"
    ).fetchall()
    keys = [partition_key(year, month) for year, month in rows]
    return {key: period_id(key) for key in keys if key in known}


def publish_periods(
    context: dg.AssetExecutionContext,
    con: duckdb.DuckDBPyConnection,
    write: Callable[[duckdb.DuckDBPyConnection, str], dict[str, object]],
    workers: int = WRITERS,
) -> dict[str, dict[str, object]]:
    """Write each period's files with `write(cursor, period_id)`; logs one materialization per
    period when the run itself is not partitioned. Returns metadata per period.

    Periods are written by `workers` threads, each on a cursor of its own (DuckDB runs them
    side by side and releases the GIL): one period's query, written as one file,
    keeps few cores busy, two keep both. Materializations are logged in period order, from
    this thread; a period that fails is raised after the others' are logged."""
    partitioned = context.has_partition_key_range or context.has_partition_key
    periods = periods_of_run(context, con)
    cursors: Queue[duckdb.DuckDBPyConnection] = Queue()
    for _ in range(min(workers, len(periods)) or 1):
        cursors.put(cursor_of(con))

    def on_a_cursor(period: str) -> dict[str, object]:
        cursor = cursors.get()
        try:
            return write(cursor, period)
        finally:
            cursors.put(cursor)

    published, failure = {}, None
    with ThreadPoolExecutor(max_workers=cursors.qsize()) as pool:
        futures = {
            key: (period, pool.submit(on_a_cursor, period)) for key, period in periods.items()
        }
        for key, (period, future) in futures.items():
            try:
                metadata = future.result()
            except Exception as error:  # the other periods finish and are recorded first
                failure = failure or error
                continue
            published[period] = metadata
            if not partitioned:
                context.log_event(
                    dg.AssetMaterialization(
                        asset_key=context.asset_key, partition=key, metadata=metadata
                    )
                )
    while not cursors.empty():
        cursors.get().close()
    if failure is not None:
        raise failure
    return published
