"""Curated marts as Parquet for BI tools: one asset and one file per published mart."""

import dagster as dg

from orchestration.exports.publish import publish
from orchestration.ingest import WAREHOUSE_POOL
from orchestration.resources import Exports, Warehouse

PUBLISHED_MARTS = (
    "trial_balance",
    "income_statement",
    "balance_sheet",
    "fct_gl_journal_lines",
    "dim_account",
    "dim_legal_entity",
    "dim_cost_center",
    "dim_fiscal_period",
    "dim_currency",
)


def reporting_asset(mart: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=["exports", f"reporting_{mart}"],
        deps=[dg.AssetKey(["marts", mart])],
        group_name="exports",
        kinds={"parquet"},
        pool=WAREHOUSE_POOL,
        description=f"`marts.{mart}` as Parquet for BI tools.",
    )
    def export(warehouse: Warehouse, exports: Exports) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            written = publish(
                con, f"select * from marts.{mart}", exports.reporting / f"{mart}.parquet"
            )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": written["rows"],
                "path": dg.MetadataValue.path(written["path"]),
                "sha256": written["sha256"],
            }
        )

    return export


reporting_marts = [reporting_asset(mart) for mart in PUBLISHED_MARTS]
