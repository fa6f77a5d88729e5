"""Fiscal periods as Dagster partitions.

A partition key is the period's calendar month (`2024-04`), because Dagster's
time windows are calendar months; finance reads the same month as a fiscal
period id (`2025-P01`: fiscal years start in April and are named after the year
they end in, as in dbt's `fiscal_year_start_month`). Files carry the fiscal id.
"""

from __future__ import annotations

import dagster as dg

FISCAL_YEAR_START_MONTH = 4
FIRST_PERIOD = "2024-04"

# end_offset=1: the open (current) period is a partition too, so the daily sync can
# republish it while the month is still running.
fiscal_periods = dg.MonthlyPartitionsDefinition(start_date=FIRST_PERIOD, fmt="%Y-%m", end_offset=1)


def period_id(partition_key: str) -> str:
    """`2024-04` -> `2025-P01`; `2025-03` -> `2025-P12`."""
    year, month = (int(part) for part in partition_key.split("-"))
    fiscal_period = (month - FISCAL_YEAR_START_MONTH) % 12 + 1
    fiscal_year = year + 1 if month >= FISCAL_YEAR_START_MONTH > 1 else year
    return f"{fiscal_year}-P{fiscal_period:02d}"


def partition_key(calendar_year: int, calendar_month: int) -> str:
    """The partition of a fiscal period, from its calendar month (dim_fiscal_period's columns)."""
    return f"{calendar_year:04d}-{calendar_month:02d}"


def period_range(first: str, last: str) -> dict[str, str]:
    """The tags of one run over the partitions from `first` to `last`: Dagster's own, as a
    backfill run over a range sets them."""
    return {
        "dagster/asset_partition_range_start": first,
        "dagster/asset_partition_range_end": last,
    }


# The job that republishes fiscal periods; its runs are the backfills (jobs.py names it).
PERIODS_JOB = "publish_fiscal_periods"


def backfilled_period(run: dg.DagsterRun) -> str | None:
    """The fiscal period a run of the periods job republishes (`2025-P03`), else None.

    Only that job narrows dbt to one period: the daily actuals sync is partitioned by
    the open period too, but late postings into earlier periods must still be built."""
    key = run.tags.get("dagster/partition")
    if run.job_name != PERIODS_JOB or key is None:
        return None
    return period_id(key)
