"""Actuals and drivers for the planning tool, in its (Anaplan-style) import layout.

Under `exports/fpa/`:

    lists/entities.csv        one file per dimension list: Code, Name, Parent, attributes
    lists/accounts.csv        (an account's parent is its statement line, a cost center's
    lists/cost_centers.csv     its hierarchy node, a month's its fiscal year)
    lists/periods.csv
    actuals/<period>.csv      P&L actuals by entity x account x cost center x month: Amount
                              in functional currency, Amount_Group in the group currency at
                              the period's average rate (int_fx_period_rates), so that a
                              period's Amount_Group adds up to the consolidated income
                              statement's entities column (the rounding cent of an account
                              sits on its largest cost center, as in the trial balance)
    workforce/<period>.csv    workforce drivers by entity x cost center x month
    pipeline.csv              the open CRM pipeline, weighted, by entity x expected close
                              month: a snapshot of today's pipeline, whose months lie ahead
                              of the ledger's, so one file rather than one per period
    manifest.json             what is published; written last

Members are the plan's own: month `Apr 24`, cost center `NONE` where the GL has none.
Period files are republished per fiscal period, so a backfill touches only its period's
files; every file's rows are fully ordered, so the same marts give the same bytes, and a
file whose bytes are already on disk is not rewritten (one changed on disk is). An actuals
file is published only if its totals tie to the GL mart and the trial balance.

`manifest.json` (schema_version 1), for the planning tool and the exports <-> marts
reconciliation:

    {"schema_version": 1, "run_id": "<Dagster run id>", "generated_at": "<UTC, ISO 8601>",
     "periods": ["<periods this run published>"],
     "files": [{"path": "actuals/2025-P01.csv", "module": "actuals", "period": "2025-P01",
                "rows": 812, "control_totals": {"Amount": "12.34", "Amount_Group": "5.67"},
                "sha256": "<hex>"}, ...]}

`files` lists every published file, sorted by path (relative to `exports/fpa`); `period`
is null for the lists and the pipeline snapshot; control totals are column sums as exact
decimal strings. Only run_id, generated_at and periods differ between runs on the same data.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.exports.periods import publish_periods
from orchestration.exports.publish import publish, publish_bytes, sha256
from orchestration.ingest import WAREHOUSE_POOL
from orchestration.partitions import FISCAL_YEAR_START_MONTH, fiscal_periods
from orchestration.resources import Exports, Warehouse

ACTUALS = dg.AssetKey(["exports", "fpa_actuals"])
PERIOD_ID = re.compile(r"^\d{4}-P\d{2}$")
SCHEMA_VERSION = 1
MANIFEST = "manifest.json"

MONTH_OF_PERIOD = (
    "(select strftime(period_start_date, '%b %y') from marts.dim_fiscal_period"
    " where period_id = '{period}')"
)


@dataclass(frozen=True)
class Module:
    """One import file (or one per period): its query, and the columns the manifest sums."""

    name: str
    path: str  # relative to exports/fpa; `{period}` for per-period modules
    query: str
    totals: dict[str, str] = field(default_factory=dict)  # column -> DuckDB type

    @property
    def periodic(self) -> bool:
        return "{period}" in self.path

    def target(self, root: Path, period: str | None = None) -> Path:
        if self.periodic and (period is None or not PERIOD_ID.match(period)):
            raise ValueError(f"not a fiscal period id: {period!r}")
        return root / self.path.format(period=period)

    def sql(self, period: str | None = None) -> str:
        if self.periodic and (period is None or not PERIOD_ID.match(period)):
            raise ValueError(f"not a fiscal period id: {period!r}")
        if not self.periodic:
            return self.query
        return self.query.format(period=period, month=MONTH_OF_PERIOD.format(period=period))


LISTS = (
    Module(
        "entities",
        "lists/entities.csv",
        """
        select
            entity_code as "Code",
            entity_name as "Name",
            consolidation_parent_code as "Parent",
            currency_functional as "Currency",
            country_code as "Country",
            region as "Region"
        from marts.dim_legal_entity
        order by all
        """,
    ),
    Module(
        "accounts",
        "lists/accounts.csv",
        """
        select
            account_code as "Code",
            account_name as "Name",
            statement_line_code as "Parent",
            statement as "Statement",
            section as "Section"
        from marts.dim_account
        order by all
        """,
    ),
    Module(
        "cost_centers",
        "lists/cost_centers.csv",
        """
        select
            cost_center_code as "Code",
            cost_center_name as "Name",
            node_code as "Parent",
            entity_code as "Entity"
        from marts.dim_cost_center
        union all
        select 'NONE', 'No cost center', null, null
        order by all
        """,
    ),
    Module(
        "periods",
        "lists/periods.csv",
        """
        select
            strftime(period_start_date, '%b %y') as "Code",
            period_id as "Name",
            'FY' || fiscal_year as "Parent",
            period_start_date as "Start_Date",
            period_end_date as "End_Date"
        from marts.dim_fiscal_period
        order by period_start_date
        """,
    ),
)

ACTUALS_MODULE = Module(
    "actuals",
    "actuals/{period}.csv",
    """
    with lines as (
        select
            line.entity_code,
            line.account_code,
            coalesce(line.cost_center_code, 'NONE') as cost_center_code,
            line.currency_functional,
            sum(line.amount_functional) as amount
        from marts.fct_gl_journal_lines as line
        inner join marts.dim_account as account on line.account_code = account.account_code
        where account.statement = 'PL' and line.period_id = '{period}'
        group by all
    ),
    translated as (
        select
            lines.*,
            round(lines.amount * rate.rate_to_group, 2) as amount_group,
            round(
                sum(lines.amount) over (partition by lines.entity_code, lines.account_code)
                * rate.rate_to_group, 2
            ) - sum(round(lines.amount * rate.rate_to_group, 2)) over (
                partition by lines.entity_code, lines.account_code
            ) as rounding,
            row_number() over (
                partition by lines.entity_code, lines.account_code
                order by abs(lines.amount) desc, lines.cost_center_code
            ) as largest
        from lines
        left join intermediate.int_fx_period_rates as rate
            on lines.currency_functional = rate.currency_code
            and rate.period_id = '{period}'
            and rate.rate_type = 'average'
    )
    select
        entity_code as "Entity",
        account_code as "Account",
        cost_center_code as "Cost_Center",
        {month} as "Month",
        currency_functional as "Currency",
        amount as "Amount",
        cast(amount_group + if(largest = 1, rounding, 0) as decimal(18, 2)) as "Amount_Group"
    from translated
    order by "Entity", "Account", "Cost_Center"
    """,
    {"Amount": "decimal(38,2)", "Amount_Group": "decimal(38,2)"},
)

WORKFORCE_MODULE = Module(
    "workforce",
    "workforce/{period}.csv",
    """
    select
        entity_code as "Entity",
        coalesce(cost_center_code, 'NONE') as "Cost_Center",
        {month} as "Month",
        currency_functional as "Currency",
        headcount as "Headcount",
        gross_earnings_functional as "Gross_Earnings",
        employer_taxes_functional as "Employer_Taxes",
        benefits_functional as "Benefits",
        workforce_cost_functional as "Workforce_Cost"
    from marts.workforce_cost_drivers
    where period_id = '{period}'
    order by all
    """,
    {
        "Headcount": "bigint",
        "Gross_Earnings": "decimal(38,2)",
        "Employer_Taxes": "decimal(38,2)",
        "Benefits": "decimal(38,2)",
        "Workforce_Cost": "decimal(38,2)",
    },
)

# fiscal year + period -> the calendar month's first day; FY2025 P01 = April 2024
_START = FISCAL_YEAR_START_MONTH
PIPELINE_MODULE = Module(
    "pipeline",
    "pipeline.csv",
    f"""
    select
        entity_code as "Entity",
        strftime(
            make_date(
                fiscal_year - if({_START} > 1 and fiscal_period <= {13 - _START}, 1, 0),
                (fiscal_period + {_START} - 2) % 12 + 1,
                1
            ),
            '%b %y'
        ) as "Month",
        product_family as "Product_Family",
        currency_txn as "Currency",
        open_opportunities as "Open_Opportunities",
        amount_pipeline_txn as "Pipeline",
        amount_weighted_pipeline_txn as "Weighted_Pipeline",
        amount_commit_txn as "Commit"
    from marts.revenue_pipeline_drivers
    order by fiscal_year, fiscal_period, "Entity", "Product_Family", "Currency"
    """,
    {
        "Open_Opportunities": "bigint",
        "Pipeline": "decimal(38,2)",
        "Weighted_Pipeline": "decimal(38,2)",
        "Commit": "decimal(38,2)",
    },
)

SNAPSHOTS = (*LISTS, PIPELINE_MODULE)
PERIODIC = (ACTUALS_MODULE, WORKFORCE_MODULE)
MODULES = (*SNAPSHOTS, *PERIODIC)

MART_TOTALS = """
    select line.currency_functional, sum(line.amount_functional)
    from marts.fct_gl_journal_lines as line
    inner join marts.dim_account as account on line.account_code = account.account_code
    where account.statement = 'PL' and line.period_id = ?
    group by all
"""

TRIAL_BALANCE_GROUP = """
    select coalesce(sum(tb.movement_group), 0)
    from marts.trial_balance as tb
    inner join marts.dim_account as account on tb.account_code = account.account_code
    where account.statement = 'PL' and tb.period_id = ?
"""


class ActualsDoNotTie(Exception):
    """The file's totals differ from the marts': it must not reach the planning tool."""


def actuals_query(period: str) -> str:
    return ACTUALS_MODULE.sql(period)


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


def group_difference(con: duckdb.DuckDBPyConnection, period: str, target: Path) -> Decimal | None:
    """File minus trial balance in the group currency; None if a line has no group amount."""
    [(total, missing)] = con.execute(
        'select coalesce(sum("Amount_Group"), 0), count(*) - count("Amount_Group")'
        " from read_csv(?, types={'Amount_Group': 'decimal(18,2)'}, header=true)",
        [str(target)],
    ).fetchall()
    if missing:
        return None
    [(trial_balance,)] = con.execute(TRIAL_BALANCE_GROUP, [period]).fetchall()
    return total - trial_balance


def tie(con: duckdb.DuckDBPyConnection, period: str, partial: Path) -> None:
    """Refuse an actuals file that does not tie to the GL (functional) and the TB (group)."""
    if off := differences(con, period, partial):
        raise ActualsDoNotTie(f"{period}: file minus GL per currency {off}")
    group = group_difference(con, period, partial)
    if group is None:
        raise ActualsDoNotTie(f"{period}: lines without a group amount (no average rate)")
    if group:
        raise ActualsDoNotTie(f"{period}: file minus trial balance in group currency {group}")


def file_entry(
    con: duckdb.DuckDBPyConnection, root: Path, module: Module, path: Path, period: str | None
) -> dict[str, object]:
    """The manifest's entry for one published file, read back as the planning tool reads it."""
    columns = [f'sum("{column}")' for column in module.totals]
    types = ", ".join(f"'{column}': '{kind}'" for column, kind in module.totals.items())
    try:
        [row] = con.execute(
            f"select count(*) {''.join(', ' + c for c in columns)}"
            f" from read_csv(?, header=true{', types={' + types + '}' if types else ''})",
            [str(path)],
        ).fetchall()
    except duckdb.Error as error:
        raise ValueError(
            f"{path}: not a readable {module.name} file ({error}); republish its period"
        ) from error
    rows, *sums = row
    return {
        "path": path.relative_to(root).as_posix(),
        "module": module.name,
        "period": period,
        "rows": rows,
        "control_totals": {
            column: str(total if total is not None else 0)
            for column, total in zip(module.totals, sums, strict=True)
        },
        "sha256": sha256(path),
    }


def manifest(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    run_id: str,
    periods: list[str],
    entries: dict[Path, dict[str, object]] | None = None,
) -> dict[str, object]:
    """Every published file of every module, from the files on disk; `entries` are those
    already read back (by `file_entry`) since this run published them."""
    entries = entries or {}
    files = []
    for module in MODULES:
        if module.periodic:
            folder = module.target(root, "0000-P00").parent
            for path in sorted(folder.glob("*.csv")):
                if PERIOD_ID.match(path.stem):
                    files.append(
                        entries.get(path) or file_entry(con, root, module, path, path.stem)
                    )
        elif (path := module.target(root)).exists():
            files.append(entries.get(path) or file_entry(con, root, module, path, None))
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "periods": periods,
        "files": sorted(files, key=lambda entry: entry["path"]),
    }


@dg.asset(
    key=ACTUALS,
    deps=[
        dg.AssetKey(["marts", "fct_gl_journal_lines"]),
        dg.AssetKey(["marts", "trial_balance"]),
        dg.AssetKey(["marts", "dim_account"]),
        dg.AssetKey(["marts", "dim_fiscal_period"]),
        dg.AssetKey(["marts", "dim_legal_entity"]),
        dg.AssetKey(["marts", "dim_cost_center"]),
        dg.AssetKey(["marts", "workforce_cost_drivers"]),
        dg.AssetKey(["marts", "revenue_pipeline_drivers"]),
        dg.AssetKey(["intermediate", "int_fx_period_rates"]),
        dg.AssetKey(["reconciliation", "blocking_breaks"]),  # its blocking checks gate this
    ],
    partitions_def=fiscal_periods,
    group_name="exports",
    kinds={"csv"},
    pool=WAREHOUSE_POOL,
    retry_policy=dg.RetryPolicy(max_retries=2, delay=2),
    automation_condition=dg.AutomationCondition.eager(),
    description="The planning tool's imports: dimension lists, P&L actuals (functional and"
    " group currency) and workforce drivers per fiscal period, the weighted pipeline, and a"
    " manifest with row counts, control totals and checksums.",
)
def fpa_actuals(
    context: dg.AssetExecutionContext, warehouse: Warehouse, exports: Exports
) -> dg.MaterializeResult:
    root = exports.fpa
    with warehouse.connect() as con:
        snapshots = [publish(con, m.sql(), m.target(root)) for m in SNAPSHOTS]

        entries: dict[Path, dict[str, object]] = {}  # the manifest's, read back in parallel

        def write(cursor: duckdb.DuckDBPyConnection, period: str) -> dict[str, object]:
            target = ACTUALS_MODULE.target(root, period)
            written = publish(
                cursor, ACTUALS_MODULE.sql(period), target, verify=lambda p: tie(cursor, period, p)
            )
            workforce = WORKFORCE_MODULE.target(root, period)
            drivers = publish(cursor, WORKFORCE_MODULE.sql(period), workforce)
            totals = exported_totals(cursor, target) if written["rows"] else {}
            for module, path in ((ACTUALS_MODULE, target), (WORKFORCE_MODULE, workforce)):
                entries[path] = file_entry(cursor, root, module, path, period)
            return {
                "dagster/row_count": written["rows"],
                "path": dg.MetadataValue.path(written["path"]),
                "sha256": written["sha256"],
                "workforce_rows": drivers["rows"],
                "files_rewritten": int(written["rewritten"]) + int(drivers["rewritten"]),
                "control_totals": dg.MetadataValue.json({c: str(a) for c, a in totals.items()}),
            }

        published = publish_periods(context, con, write)
        content = manifest(con, root, context.run.run_id, sorted(published), entries)
        [(last_posting,)] = con.execute(
            "select max(posting_date) from marts.fct_gl_journal_lines"
        ).fetchall()
    publish_bytes((json.dumps(content, indent=2) + "\n").encode(), root / MANIFEST)
    facts = summary(context, published, last_posting)
    facts["files_rewritten"] = sum(int(s["rewritten"]) for s in snapshots) + sum(
        int(m["files_rewritten"]) for m in published.values()
    )
    facts["manifest"] = dg.MetadataValue.path(str(root / MANIFEST))
    return dg.MaterializeResult(metadata=facts)


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
    description="Every published actuals file's totals per currency equal the GL mart's, and"
    " every file the manifest lists is on disk with the manifest's checksum.",
    pool=WAREHOUSE_POOL,
)
def fpa_actuals_ties_to_mart(warehouse: Warehouse, exports: Exports) -> dg.AssetCheckResult:
    root = exports.fpa
    files = sorted((root / "actuals").glob("*.csv"))
    with warehouse.connect() as con:
        off = {f.stem: differences(con, f.stem, f) for f in files}
    failing = {period: {c: str(d) for c, d in diff.items()} for period, diff in off.items() if diff}
    listed = (
        json.loads((root / MANIFEST).read_text())["files"] if (root / MANIFEST).exists() else []
    )
    mismatched = sorted(
        entry["path"]
        for entry in listed
        if not (root / entry["path"]).exists() or sha256(root / entry["path"]) != entry["sha256"]
    )
    return dg.AssetCheckResult(
        passed=bool(files) and bool(listed) and not failing and not mismatched,
        metadata={
            "files_checked": len(files),
            "failed_rows": len(failing),
            "difference_by_period_and_currency": dg.MetadataValue.json(failing),
            "files_not_as_in_manifest": dg.MetadataValue.json(mismatched),
        },
    )
