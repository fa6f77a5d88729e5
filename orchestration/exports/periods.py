"""Publishing one file per fiscal period, so that a backfill touches only its own period.

A partitioned run (a schedule tick, a backfill) publishes the periods of its
partitions. An unpartitioned run (`make run`, the main job) publishes every period
the warehouse knows, and records each as a materialization of its partition, so the
UI shows which periods are published either way.
"""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg
import duckdb

from orchestration.partitions import fiscal_periods, partition_key, period_id


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
    write: Callable[[str], dict[str, object]],
) -> dict[str, dict[str, object]]:
    """Write each period's files with `write(period_id)`; logs one materialization per
    period when the run itself is not partitioned. Returns metadata per period."""
    partitioned = context.has_partition_key_range or context.has_partition_key
    published = {}
    for key, period in periods_of_run(context, con).items():
        metadata = write(period)
        published[period] = metadata
        if not partitioned:
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=context.asset_key, partition=key, metadata=metadata
                )
            )
    return published
