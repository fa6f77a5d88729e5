"""Curated marts as Parquet for BI tools: one asset per published mart.

Period-based products are published one file per fiscal period
(`reporting/trial_balance/2025-P01.parquet`; BI reads `trial_balance/*.parquet`), so that
republishing a period leaves the others' files alone. Dimensions are one file each.
"""

from pathlib import Path

import dagster as dg

from orchestration.exports.periods import publish_periods
from orchestration.exports.publish import publish
from orchestration.ingest import WAREHOUSE_POOL
from orchestration.partitions import fiscal_periods
from orchestration.resources import Exports, Warehouse

PERIOD_MARTS = ("trial_balance", "income_statement", "balance_sheet", "fct_gl_journal_lines")
DIMENSIONS = (
    "dim_account",
    "dim_legal_entity",
    "dim_cost_center",
    "dim_fiscal_period",
    "dim_currency",
)
PUBLISHED_MARTS = PERIOD_MARTS + DIMENSIONS


def reporting_key(mart: str) -> dg.AssetKey:
    return dg.AssetKey(["exports", f"reporting_{mart}"])


def period_asset(mart: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=reporting_key(mart),
        deps=[dg.AssetKey(["marts", mart])],
        partitions_def=fiscal_periods,
        group_name="exports",
        kinds={"parquet"},
        pool=WAREHOUSE_POOL,
        retry_policy=dg.RetryPolicy(max_retries=2, delay=2),
        automation_condition=dg.AutomationCondition.eager(),
        description=f"`marts.{mart}` as Parquet for BI tools, one file per fiscal period.",
    )
    def export(
        context: dg.AssetExecutionContext, warehouse: Warehouse, exports: Exports
    ) -> dg.MaterializeResult:
        with warehouse.connect() as con:

            def write(period: str, target: Path) -> dict[str, object]:
                written = publish(
                    con, f"select * from marts.{mart} where period_id = '{period}'", target
                )
                return {
                    "dagster/row_count": written["rows"],
                    "path": dg.MetadataValue.path(written["path"]),
                    "sha256": written["sha256"],
                }

            published = publish_periods(context, con, exports.reporting / mart, "parquet", write)
        return dg.MaterializeResult(
            metadata={
                "periods": dg.MetadataValue.json(sorted(published)),
                "dagster/row_count": sum(int(m["dagster/row_count"]) for m in published.values()),
                "retries": context.retry_number,
            }
        )

    return export


def dimension_asset(mart: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=reporting_key(mart),
        deps=[dg.AssetKey(["marts", mart])],
        group_name="exports",
        kinds={"parquet"},
        pool=WAREHOUSE_POOL,
        retry_policy=dg.RetryPolicy(max_retries=2, delay=2),
        automation_condition=dg.AutomationCondition.eager(),
        description=f"`marts.{mart}` as Parquet for BI tools.",
    )
    def export(
        context: dg.AssetExecutionContext, warehouse: Warehouse, exports: Exports
    ) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            written = publish(
                con, f"select * from marts.{mart}", exports.reporting / f"{mart}.parquet"
            )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": written["rows"],
                "path": dg.MetadataValue.path(written["path"]),
                "sha256": written["sha256"],
                "retries": context.retry_number,
            }
        )

    return export


period_exports = [period_asset(mart) for mart in PERIOD_MARTS]
dimension_exports = [dimension_asset(mart) for mart in DIMENSIONS]
reporting_marts = period_exports + dimension_exports
