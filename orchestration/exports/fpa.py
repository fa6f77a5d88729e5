"""Actuals for the planning tool, in its import layout: one row per entity x account x
cost center x month, with the same list members the plan uses (month `Apr 25`,
cost center `NONE` where the GL has none)."""

from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.exports.publish import publish
from orchestration.ingest import WAREHOUSE_POOL
from orchestration.resources import Exports, Warehouse

ACTUALS = dg.AssetKey(["exports", "fpa_actuals"])

ACTUALS_QUERY = """
    select
        line.entity_code as "Entity",
        line.account_code as "Account",
        coalesce(line.cost_center_code, 'NONE') as "Cost_Center",
        strftime(period.period_start_date, '%b %y') as "Month",
        line.currency_functional as "Currency",
        sum(line.amount_functional) as "Amount",
        sum(line.amount_group) as "Amount_Group"
    from marts.fct_gl_journal_lines as line
    inner join marts.dim_account as account on line.account_code = account.account_code
    inner join marts.dim_fiscal_period as period on line.period_id = period.period_id
    where account.statement = 'PL'
    group by all
    order by "Entity", "Account", "Cost_Center", min(period.period_index)
"""

MART_TOTALS = """
    select line.currency_functional, sum(line.amount_functional)
    from marts.fct_gl_journal_lines as line
    inner join marts.dim_account as account on line.account_code = account.account_code
    where account.statement = 'PL'
    group by all
"""


def exported_totals(con: duckdb.DuckDBPyConnection, target: Path) -> dict[str, Decimal]:
    """Amount per currency as the planning tool will read the file."""
    return dict(
        con.execute(
            'select "Currency", sum("Amount")'
            " from read_csv(?, types={'Amount': 'decimal(18,2)'})"
            " group by all order by 1",
            [str(target)],
        ).fetchall()
    )


@dg.asset(
    key=ACTUALS,
    deps=[
        dg.AssetKey(["marts", "fct_gl_journal_lines"]),
        dg.AssetKey(["marts", "dim_account"]),
        dg.AssetKey(["marts", "dim_fiscal_period"]),
    ],
    group_name="exports",
    kinds={"csv"},
    pool=WAREHOUSE_POOL,
    description="P&L actuals by entity, account, cost center and month for the planning tool.",
)
def fpa_actuals(warehouse: Warehouse, exports: Exports) -> dg.MaterializeResult:
    target = exports.fpa / "actuals.csv"
    with warehouse.connect() as con:
        written = publish(con, ACTUALS_QUERY, target)
        totals = exported_totals(con, target)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": written["rows"],
            "path": dg.MetadataValue.path(written["path"]),
            "sha256": written["sha256"],
            "control_totals": dg.MetadataValue.json({c: str(a) for c, a in totals.items()}),
        }
    )


@dg.asset_check(
    asset=ACTUALS,
    description="The file's totals per currency equal the GL mart's.",
    pool=WAREHOUSE_POOL,
)
def fpa_actuals_ties_to_mart(warehouse: Warehouse, exports: Exports) -> dg.AssetCheckResult:
    with warehouse.connect() as con:
        mart = dict(con.execute(MART_TOTALS).fetchall())
        exported = exported_totals(con, exports.fpa / "actuals.csv")
    differences = {
        currency: str(exported.get(currency, Decimal(0)) - mart.get(currency, Decimal(0)))
        for currency in sorted(set(mart) | set(exported))
    }
    return dg.AssetCheckResult(
        passed=all(Decimal(d) == 0 for d in differences.values()),
        metadata={"difference_by_currency": dg.MetadataValue.json(differences)},
    )
