"""Actuals for the planning tool, in its import layout: one file per fiscal period
(`fpa/actuals/2025-P01.csv`), one row per entity x account x cost center, with the
same list members the plan uses (month `Apr 24`, cost center `NONE` where the GL has
none). A file is published only if its totals per currency tie to the GL mart."""

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.exports.periods import publish_periods
from orchestration.exports.publish import publish
from orchestration.ingest import WAREHOUSE_POOL
from orchestration.partitions import fiscal_periods
from orchestration.resources import Exports, Warehouse

ACTUALS = dg.AssetKey(["exports", "fpa_actuals"])
PERIOD_ID = re.compile(r"^\d{4}-P\d{2}$")

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
    where account.statement = 'PL' and line.period_id = '{period}'
    group by all
    order by "Entity", "Account", "Cost_Center"
"""

MART_TOTALS = """
    select line.currency_functional, sum(line.amount_functional)
    from marts.fct_gl_journal_lines as line
    inner join marts.dim_account as account on line.account_code = account.account_code
    where account.statement = 'PL' and line.period_id = ?
    group by all
"""


class ActualsDoNotTie(Exception):
    """The file's totals differ from the GL mart's: it must not reach the planning tool."""


def actuals_query(period: str) -> str:
    if not PERIOD_ID.match(period):
        raise ValueError(f"not a fiscal period id: {period!r}")
    return ACTUALS_QUERY.format(period=period)


def exported_totals(con: duckdb.DuckDBPyConnection, target: Path) -> dict[str, Decimal]:
    """Amount per currency as the planning tool will read the file."""
    return dict(
        con.execute(
            'select "Currency", sum("Amount")'
            " from read_csv(?, types={'Amount': 'decimal(18,2)'}, header=true)"
            " group by all order by 1",
            [str(target)],
        ).fetchall()
    )


def differences(con: duckdb.DuckDBPyConnection, period: str, target: Path) -> dict[str, Decimal]:
    """File minus mart per currency, only where they differ."""
    mart = dict(con.execute(MART_TOTALS, [period]).fetchall())
    exported = exported_totals(con, target) if target.stat().st_size else {}
    return {
        currency: exported.get(currency, Decimal(0)) - mart.get(currency, Decimal(0))
        for currency in sorted(set(mart) | set(exported))
        if exported.get(currency, Decimal(0)) != mart.get(currency, Decimal(0))
    }


@dg.asset(
    key=ACTUALS,
    deps=[
        dg.AssetKey(["marts", "fct_gl_journal_lines"]),
        dg.AssetKey(["marts", "dim_account"]),
        dg.AssetKey(["marts", "dim_fiscal_period"]),
    ],
    partitions_def=fiscal_periods,
    group_name="exports",
    kinds={"csv"},
    pool=WAREHOUSE_POOL,
    retry_policy=dg.RetryPolicy(max_retries=2, delay=2),
    automation_condition=dg.AutomationCondition.eager(),
    description="P&L actuals by entity, account and cost center, one file per fiscal period,"
    " for the planning tool.",
)
def fpa_actuals(
    context: dg.AssetExecutionContext, warehouse: Warehouse, exports: Exports
) -> dg.MaterializeResult:
    with warehouse.connect() as con:

        def write(period: str, target: Path) -> dict[str, object]:
            def tie(partial: Path) -> None:
                if off := differences(con, period, partial):
                    raise ActualsDoNotTie(f"{period}: file minus GL per currency {off}")

            written = publish(con, actuals_query(period), target, verify=tie)
            totals = exported_totals(con, target) if written["rows"] else {}
            return {
                "dagster/row_count": written["rows"],
                "path": dg.MetadataValue.path(written["path"]),
                "sha256": written["sha256"],
                "control_totals": dg.MetadataValue.json({c: str(a) for c, a in totals.items()}),
            }

        published = publish_periods(context, con, exports.fpa / "actuals", "csv", write)
        [(last_posting,)] = con.execute(
            "select max(posting_date) from marts.fct_gl_journal_lines"
        ).fetchall()
    return dg.MaterializeResult(metadata=summary(context, published, last_posting))


def summary(
    context: dg.AssetExecutionContext, published: dict[str, dict], last_change: object
) -> dict[str, object]:
    """What a controller reads on the asset: periods, rows, control totals, lag, retries."""
    totals: dict[str, Decimal] = {}
    for metadata in published.values():
        for currency, amount in metadata.get(
            "control_totals", dg.MetadataValue.json({})
        ).data.items():
            totals[currency] = totals.get(currency, Decimal(0)) + Decimal(amount)
    facts: dict[str, object] = {
        "periods": dg.MetadataValue.json(sorted(published)),
        "dagster/row_count": sum(int(m["dagster/row_count"]) for m in published.values()),
        "retries": context.retry_number,
    }
    if totals:
        facts["control_totals"] = dg.MetadataValue.json(
            {c: str(a) for c, a in sorted(totals.items())}
        )
    if last_change is not None:
        changed = datetime(last_change.year, last_change.month, last_change.day, tzinfo=UTC)
        facts["last_source_change"] = dg.MetadataValue.timestamp(changed)
        facts["source_lag_hours"] = round((datetime.now(UTC) - changed).total_seconds() / 3600, 1)
    return facts


@dg.asset_check(
    asset=ACTUALS,
    description="Every published period file's totals per currency equal the GL mart's.",
    pool=WAREHOUSE_POOL,
)
def fpa_actuals_ties_to_mart(warehouse: Warehouse, exports: Exports) -> dg.AssetCheckResult:
    files = sorted((exports.fpa / "actuals").glob("*.csv"))
    with warehouse.connect() as con:
        off = {f.stem: differences(con, f.stem, f) for f in files}
    failing = {period: {c: str(d) for c, d in diff.items()} for period, diff in off.items() if diff}
    return dg.AssetCheckResult(
        passed=bool(files) and not failing,
        metadata={
            "files_checked": len(files),
            "failed_rows": len(failing),
            "difference_by_period_and_currency": dg.MetadataValue.json(failing),
        },
    )
