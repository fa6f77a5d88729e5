"""The naive alternative: finsync's published products as an analyst's pandas script would
make them: `python -m bench.naive_pandas DIR` reads DIR/sandbox, writes DIR/pandas/.

The same computation as `floor.sql` (and finsync's dbt models), in floats, loading
every file into memory and writing one file per fiscal period with pandas' own
writers: the GL products, and the payroll, CRM and planning ones (workforce drivers
with small groups folded up the cost center hierarchy, the open pipeline, every plan
version, budget against actual for the latest approved versions). Like the floor it
counts headcount by worker id (finsync by pseudonymous key: same counts) and takes a
cost center's current owner. Its products have every column of finsync's (its lineage
aside), as the floor's do: the GL lines the fact's, the statements their lines' labels,
the fiscal calendar and the consolidation's entities and eliminations side by side; they
compute on the GL lines' columns they read. Nothing here is tuned: that is the point of
the comparison.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.paths import DBT_PROJECT_DIR

GROUP_CURRENCY, START_MONTH = "USD", 4
RETAINED_EARNINGS, CTA, IC_PL_DIFFERENCE = "330000", "340000", "721000"
MIN_GROUP_SIZE = 3  # dbt var workforce_min_group_size
# the planning tool's import files: column -> member name, in file order
FPA_LAYOUT = {
    "actuals": {
        "entity_code": "Entity",
        "account_code": "Account",
        "cost_center_code": "Cost_Center",
        "month": "Month",
        "currency_functional": "Currency",
        "amount_functional": "Amount",
        "amount_group": "Amount_Group",
    },
    "workforce": {
        "entity_code": "Entity",
        "cost_center_code": "Cost_Center",
        "month": "Month",
        "currency_functional": "Currency",
        "headcount": "Headcount",
        "gross_earnings_functional": "Gross_Earnings",
        "employer_taxes_functional": "Employer_Taxes",
        "benefits_functional": "Benefits",
        "workforce_cost_functional": "Workforce_Cost",
    },
    "pipeline": {
        "entity_code": "Entity",
        "month": "Month",
        "product_family": "Product_Family",
        "currency_txn": "Currency",
        "open_opportunities": "Open_Opportunities",
        "amount_pipeline_txn": "Pipeline",
        "amount_weighted_pipeline_txn": "Weighted_Pipeline",
        "amount_commit_txn": "Commit",
    },
}
KEY = ["entity_code", "account_code", "partner_entity_code"]
# a statement line: its code and labels
LINE = ["statement_line_code", "section", "statement_line_name", "statement_line_sort_order"]
SIDES = ("entities", "eliminations")  # a consolidated amount's two parts
# the columns of the journal lines the products compute on
COMPUTED_FROM = [
    *("document_key", "entity_code", "account_code", "cost_center_code", "partner_entity_code"),
    *("posting_date", "currency_functional", "amount_functional", "period_start_date"),
    *("period_id", "rate", "amount_group"),
]
# fct_gl_journal_lines' columns but its lineage
GL_COLUMNS = [
    *("journal_line_key", "document_key", "source_system", "entity_code", "period_id"),
    *("document_number", "line_number", "account_code", "local_account_code"),
    *("cost_center_code", "local_cost_center_code", "product_code", "project_code"),
    *("partner_entity_code", "customer_id", "reference_document", "reversed_document_number"),
    *("document_type", "line_text", "source_file_name", "posting_date", "document_date"),
    *("fiscal_year", "fiscal_period", "currency_txn", "amount_txn", "currency_functional"),
    *("amount_functional", "currency_group", "fx_rate_functional_to_group", "amount_group"),
]
AMOUNTS = ("valor_moeda", "debito_brl", "credito_brl")
CSV_TYPES = (
    {"linha": "int64"}
    | dict.fromkeys(AMOUNTS, "float64")
    | {column: "string" for column in ("empresa", "numero_lancamento", "conta", "centro_custo")}
)


def load(extracts: Path) -> dict[str, pd.DataFrame]:
    erp = extracts / "erp"
    seeds = DBT_PROJECT_DIR / "seeds"
    regional = pd.concat(
        pd.read_csv(path, sep=";", decimal=",", dtype=CSV_TYPES).assign(source_file_name=path.name)
        for path in sorted((extracts / "regional_erp" / "drops").glob("*.csv"))
    )
    return {
        "journal_items": pd.read_parquet(erp / "journal_items"),
        "regional": regional,
        "fx_rates": pd.read_parquet(erp / "fx_rates.parquet"),
        "companies": pd.read_parquet(erp / "company_codes.parquet"),
        "gl_accounts": pd.read_parquet(erp / "gl_accounts.parquet"),
        "statement_items": pd.read_parquet(erp / "financial_statement_items.parquet"),
        "map_accounts": pd.read_csv(seeds / "map_regional_accounts.csv", dtype=str),
        "map_cost_centers": pd.read_csv(seeds / "map_regional_cost_centers.csv", dtype=str),
        "map_companies": pd.read_csv(seeds / "map_regional_companies.csv", dtype=str),
        "cost_centers": pd.read_parquet(erp / "cost_centers.parquet"),
        "cost_center_nodes": pd.read_parquet(erp / "cost_center_nodes.parquet"),
        "payroll_results": pd.read_parquet(extracts / "payroll" / "payroll_results.parquet"),
        "opportunities": pd.read_parquet(extracts / "crm" / "opportunities.parquet"),
        "plan_lines": pd.read_parquet(extracts / "fpa" / "plan_lines.parquet"),
        "plan_versions": pd.read_json(extracts / "fpa" / "plan_versions.jsonl", lines=True),
    }


def fiscal_year_and_period(dates: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    year = dates.dt.year + (dates.dt.month >= START_MONTH)
    period = (dates.dt.month - START_MONTH) % 12 + 1
    return year, period, year.astype(str) + "-P" + period.astype(str).str.zfill(2)


def fiscal_periods(posting_dates: pd.Series) -> pd.DataFrame:
    first = posting_dates.min().to_period("M").to_timestamp()
    last = posting_dates.max().to_period("M").to_timestamp()
    start = first - pd.DateOffset(months=(first.month - START_MONTH) % 12)
    end = last + pd.DateOffset(months=12 - (last.month - START_MONTH) % 12)
    months = pd.date_range(start, end, freq="MS", inclusive="left")
    periods = pd.DataFrame({"period_start_date": months})
    periods["period_end_date"] = months + pd.offsets.MonthEnd(0)
    periods["period_index"] = np.arange(1, len(months) + 1)
    periods["fiscal_year"] = months.year + (months.month >= START_MONTH)
    periods["fiscal_period"] = (months.month - START_MONTH) % 12 + 1
    periods["period_id"] = [
        f"{y}-P{p:02d}" for y, p in zip(periods.fiscal_year, periods.fiscal_period, strict=True)
    ]
    return periods


def daily_rates(fx: pd.DataFrame) -> pd.DataFrame:
    fx = fx[(fx.ExchangeRateType == "M") & (fx.ExchangeRate.astype(float) > 0)]
    direct = fx[(fx.ToCurrency == GROUP_CURRENCY) & (fx.FromCurrency != GROUP_CURRENCY)]
    inverse = fx[(fx.FromCurrency == GROUP_CURRENCY) & (fx.ToCurrency != GROUP_CURRENCY)]
    quotes = pd.concat(
        [
            pd.DataFrame(
                {
                    "currency_code": direct.FromCurrency,
                    "valid_from": pd.to_datetime(direct.ValidFrom),
                    "rate": direct.ExchangeRate.astype(float),
                    "priority": 1,
                }
            ),
            pd.DataFrame(
                {
                    "currency_code": inverse.ToCurrency,
                    "valid_from": pd.to_datetime(inverse.ValidFrom),
                    "rate": 1 / inverse.ExchangeRate.astype(float),
                    "priority": 2,
                }
            ),
        ]
    )
    quotes = quotes.sort_values("priority").drop_duplicates(["currency_code", "valid_from"])
    days = pd.date_range(pd.to_datetime(fx.ValidFrom).min(), pd.to_datetime(fx.ValidFrom).max())
    out = []
    for currency, rates in quotes.groupby("currency_code"):
        series = rates.set_index("valid_from").sort_index()["rate"].reindex(days, method="ffill")
        out.append(pd.DataFrame({"currency_code": currency, "rate_date": days, "rate": series}))
    out.append(pd.DataFrame({"currency_code": GROUP_CURRENCY, "rate_date": days, "rate": 1.0}))
    return pd.concat(out).dropna()


def period_rates(daily: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    daily = daily.assign(period_start_date=daily.rate_date.dt.to_period("M").dt.to_timestamp())
    daily = daily.merge(periods, on="period_start_date")
    average = daily.groupby(["currency_code", "period_id"], as_index=False).rate.mean()
    closing = daily[daily.rate_date == daily.period_end_date]
    closing = closing[["currency_code", "period_id", "rate"]]
    return average.rename(columns={"rate": "average_rate"}).merge(
        closing.rename(columns={"rate": "closing_rate"}), how="left"
    )


def journal_lines(src: dict[str, pd.DataFrame], periods: pd.DataFrame) -> pd.DataFrame:
    items = src["journal_items"]
    document_key = (
        "erp|" + items.CompanyCode + "|" + items.FiscalYear.astype(str) + "|"
    ) + items.AccountingDocument
    erp = pd.DataFrame(
        {
            "source_system": "erp",
            "journal_line_key": document_key + "|" + items.LedgerGLLineItem.astype(str),
            "document_key": document_key,
            "entity_code": items.CompanyCode,
            "document_number": items.AccountingDocument,
            "line_number": items.LedgerGLLineItem,
            "account_code": items.GLAccount,
            "local_account_code": None,
            "cost_center_code": items.CostCenter,
            "local_cost_center_code": None,
            "product_code": items.Product,
            "project_code": items.Project,
            "partner_entity_code": items.PartnerCompany,
            "customer_id": items.Customer,
            "reference_document": items.ReferenceDocument,
            "reversed_document_number": items.ReversalReferenceDocument,
            "document_type": items.AccountingDocumentType,
            "line_text": items.DocumentItemText,
            "source_file_name": None,
            "posting_date": pd.to_datetime(items.PostingDate),
            "document_date": pd.to_datetime(items.DocumentDate),
            "currency_txn": items.TransactionCurrency,
            "amount_txn": items.AmountInTransactionCurrency.astype(float),
            "currency_functional": items.CompanyCodeCurrency,
            "amount_functional": items.AmountInCompanyCodeCurrency.astype(float),
        }
    )
    reg = src["regional"]
    reg = reg.merge(src["map_accounts"], how="left", left_on="conta", right_on="local_account_code")
    reg = reg.merge(
        src["map_cost_centers"],
        how="left",
        left_on="centro_custo",
        right_on="local_cost_center_code",
    )
    reg = reg.merge(
        src["map_companies"], how="left", left_on="empresa", right_on="local_company_code"
    )
    currencies = src["companies"].set_index("CompanyCode").Currency
    document_key = "regional_erp|" + reg.empresa + "|" + reg.numero_lancamento
    regional = pd.DataFrame(
        {
            "source_system": "regional_erp",
            "journal_line_key": document_key + "|" + reg.linha.astype(str),
            "document_key": document_key,
            "entity_code": reg.group_company_code.fillna("UNMAPPED"),
            "document_number": reg.numero_lancamento,
            "line_number": reg.linha,
            "account_code": reg.group_account_code.fillna("UNMAPPED").where(reg.conta.notna()),
            "local_account_code": reg.conta,
            "cost_center_code": reg.group_cost_center_code.fillna("UNMAPPED").where(
                reg.centro_custo.notna()
            ),
            "local_cost_center_code": reg.centro_custo,
            "product_code": None,
            "project_code": None,
            "partner_entity_code": reg.parceiro,
            "customer_id": None,
            "reference_document": None,
            "reversed_document_number": reg.estorno_de,
            "document_type": reg.tipo,
            "line_text": reg.historico,
            "source_file_name": reg.source_file_name,
            "posting_date": pd.to_datetime(reg.data_lancamento, format="%d/%m/%Y"),
            "document_date": pd.NaT,
            "currency_txn": reg.moeda,
            "amount_txn": reg.valor_moeda.astype(float),
            "currency_functional": reg.group_company_code.map(currencies),
            "amount_functional": reg.debito_brl.astype(float) - reg.credito_brl.astype(float),
        }
    )
    lines = pd.concat([erp, regional], ignore_index=True)
    bad = (
        ~lines.entity_code.isin(currencies.index)
        | lines.account_code.isna()
        | lines.posting_date.isna()
        | lines.amount_txn.isna()
        | lines.amount_functional.isna()
        | lines.currency_functional.isna()
        | (lines.posting_date < periods.period_start_date.min())
        | (lines.posting_date > periods.period_end_date.max())
    )
    lines = lines[~lines.document_key.isin(lines.document_key[bad])]
    lines["period_start_date"] = lines.posting_date.dt.to_period("M").dt.to_timestamp()
    return lines.merge(periods[["period_start_date", "period_id"]], on="period_start_date")


def gl_lines(lines: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    """The booked lines with the fact's columns, as BI reads them (all but finsync's
    lineage, `_built_at` and `_staged_load_id`)."""
    calendar = periods.set_index("period_id")
    # added in place: the selection is the one copy of the lines
    lines["fiscal_year"] = lines.period_id.map(calendar.fiscal_year)
    lines["fiscal_period"] = lines.period_id.map(calendar.fiscal_period)
    lines["currency_group"] = GROUP_CURRENCY
    lines["fx_rate_functional_to_group"] = lines.rate
    return lines[GL_COLUMNS]


def balances(
    lines: pd.DataFrame,
    periods: pd.DataFrame,
    rates: pd.DataFrame,
    accounts: pd.DataFrame,
    companies: pd.DataFrame,
) -> pd.DataFrame:
    lines = lines.assign(partner_entity_code=lines.partner_entity_code.fillna(""))
    movements = lines.groupby([*KEY, "period_id"], as_index=False).agg(
        movement_functional=("amount_functional", "sum"),
        movement_historical_group=("amount_group", "sum"),
    )
    entities = movements.entity_code.unique()
    keys = pd.concat(
        [
            movements[KEY].drop_duplicates(),
            pd.DataFrame({"entity_code": entities, "account_code": RETAINED_EARNINGS}),
            pd.DataFrame({"entity_code": entities, "account_code": CTA}),
        ]
    ).fillna({"partner_entity_code": ""})
    keys = keys.drop_duplicates()
    calendar = periods[["period_id", "period_index", "fiscal_year", "fiscal_period"]]
    grid = keys.merge(calendar, how="cross")
    grid = grid.merge(accounts[["account_code", "statement", "section"]], how="left")
    grid = grid.merge(
        companies[["CompanyCode", "Currency"]].rename(
            columns={"CompanyCode": "entity_code", "Currency": "currency_functional"}
        ),
        how="left",
    )
    grid["translation_method"] = np.select(
        [
            grid.account_code == CTA,
            grid.statement == "PL",
            grid.section == "Equity",
        ],
        ["cta", "average", "historical"],
        "closing",
    )
    grid = grid.merge(movements, how="left").fillna(
        {"movement_functional": 0.0, "movement_historical_group": 0.0}
    )
    grid = grid.merge(
        rates.rename(columns={"currency_code": "currency_functional"}), how="left"
    ).sort_values([*KEY, "period_index"])
    grid["movement_average_group"] = (grid.movement_functional * grid.average_rate).round(2)
    is_pl = grid.translation_method == "average"
    results = (
        grid[is_pl]
        .groupby(["entity_code", "fiscal_year"], as_index=False)[
            ["movement_functional", "movement_average_group"]
        ]
        .sum()
        .rename(
            columns={
                "movement_functional": "carryforward_functional",
                "movement_average_group": "carryforward_group",
            }
        )
    )
    results["fiscal_year"] += 1
    results["account_code"], results["partner_entity_code"], results["fiscal_period"] = (
        RETAINED_EARNINGS,
        "",
        1,
    )
    grid = grid.merge(results, how="left").fillna(
        {"carryforward_functional": 0.0, "carryforward_group": 0.0}
    )
    grid = grid.sort_values([*KEY, "period_index"]).reset_index(drop=True)
    is_pl = grid.translation_method == "average"
    by_key = grid.groupby(KEY, sort=False)
    by_year = grid.groupby([*KEY, "fiscal_year"], sort=False)
    grid["closing_functional"] = np.where(
        is_pl,
        by_year.movement_functional.cumsum(),
        (grid.movement_functional + grid.carryforward_functional)
        .groupby([grid[k] for k in KEY])
        .cumsum(),
    )
    at_transaction_rates = np.where(
        is_pl,
        by_year.movement_average_group.cumsum(),
        (grid.movement_historical_group + grid.carryforward_group)
        .groupby([grid[k] for k in KEY])
        .cumsum(),
    )
    grid["closing_group"] = np.where(
        grid.translation_method == "closing",
        (grid.closing_functional * grid.closing_rate).round(2),
        at_transaction_rates,
    )
    entity_total = grid.groupby(["entity_code", "period_id"]).closing_group.transform("sum")
    grid.loc[grid.translation_method == "cta", "closing_group"] -= entity_total
    first_of_year = is_pl & (grid.fiscal_period == 1)
    grid["opening_functional"] = by_key.closing_functional.shift(1, fill_value=0.0).where(
        ~first_of_year, 0.0
    )
    grid["opening_group"] = grid.groupby(KEY, sort=False).closing_group.shift(1, fill_value=0.0)
    grid.loc[first_of_year, "opening_group"] = 0.0
    grid["movement_group"] = np.where(
        is_pl, grid.movement_average_group, grid.movement_historical_group
    )
    return grid


def workforce_cost_drivers(src: dict[str, pd.DataFrame], periods: pd.DataFrame) -> pd.DataFrame:
    """Payroll per cost center and period; groups under MIN_GROUP_SIZE workers are folded
    into their hierarchy node, then the root; a root still too small is withheld."""
    pay = src["payroll_results"]
    hierarchy = (
        src["cost_centers"]
        .merge(src["cost_center_nodes"], how="left", left_on="HierarchyNode", right_on="Node")
        .set_index("CostCenter")
    )
    results = pd.DataFrame(
        {
            "worker_id": pay.Worker_ID,
            "entity_code": pay.Company,
            "cost_center_code": pay.Cost_Center,
            "period_start_date": pd.to_datetime(pay.Pay_Period_End)
            .dt.to_period("M")
            .dt.to_timestamp(),
            "currency_functional": pay.Currency,
            "gross_earnings_functional": pay.Gross_Earnings.astype(float),
            "employer_taxes_functional": pay.Employer_Taxes.astype(float),
            "benefits_functional": pay.Benefits.astype(float),
        }
    ).merge(periods[["period_start_date", "period_id", "fiscal_year", "fiscal_period"]])
    results["node_code"] = results.cost_center_code.map(hierarchy.HierarchyNode).fillna(
        "UNASSIGNED"
    )
    results["root_node_code"] = results.cost_center_code.map(hierarchy.ParentNode).fillna(
        results.node_code
    )
    cost_center_workers = results.groupby(
        ["entity_code", "cost_center_code", "period_id"]
    ).worker_id.transform("nunique")
    small = results[cost_center_workers < MIN_GROUP_SIZE]
    node_workers = (
        small.groupby(["entity_code", "node_code", "period_id"])
        .worker_id.transform("nunique")
        .reindex(results.index)
    )
    smaller = small[node_workers[small.index] < MIN_GROUP_SIZE]
    root_workers = (
        smaller.groupby(["entity_code", "root_node_code", "period_id"])
        .worker_id.transform("nunique")
        .reindex(results.index)
    )
    levels = [cost_center_workers >= MIN_GROUP_SIZE, node_workers >= MIN_GROUP_SIZE]
    results["reporting_level"] = np.select(levels, ["cost_center", "node"], "root")
    results["reporting_unit"] = np.select(
        levels, [results.cost_center_code, results.node_code], results.root_node_code
    )
    results["is_suppressed"] = root_workers < MIN_GROUP_SIZE
    amounts = ["gross_earnings_functional", "employer_taxes_functional", "benefits_functional"]
    drivers = results.groupby(
        ["entity_code", "reporting_unit", "period_id", "fiscal_year", "fiscal_period"]
        + ["reporting_level", "is_suppressed", "currency_functional"],
        as_index=False,
    ).agg(headcount=("worker_id", "nunique"), **{a: (a, "sum") for a in amounts})
    drivers = drivers.rename(columns={"reporting_unit": "cost_center_code"})
    drivers["workforce_cost_functional"] = drivers[amounts].sum(axis=1)
    drivers["cost_per_head_functional"] = (
        drivers.workforce_cost_functional / drivers.headcount
    ).round(2)
    withheld = [*amounts, "workforce_cost_functional", "cost_per_head_functional"]
    drivers[withheld] = drivers[withheld].round(2).mask(drivers.is_suppressed)
    drivers["headcount"] = drivers.headcount.mask(drivers.is_suppressed).astype("Int64")
    return drivers


def revenue_pipeline_drivers(opportunities: pd.DataFrame) -> pd.DataFrame:
    """Open opportunities by entity, expected close period, product family and currency."""
    deals = opportunities[opportunities.IsClosed.eq(False)]
    year, period, period_id = fiscal_year_and_period(pd.to_datetime(deals.CloseDate))
    amount = deals.Amount.astype(float)
    frame = pd.DataFrame(
        {
            "entity_code": deals.Legal_Entity__c,
            "period_id": period_id,
            "product_family": deals.Product_Family__c,
            "currency_txn": deals.CurrencyIsoCode,
            "fiscal_year": year,
            "fiscal_period": period,
            "amount": amount,
            "weighted": amount * deals.Probability * 0.01,
            "commit": amount.where(deals.ForecastCategoryName == "Commit", 0.0),
            "month": pd.to_datetime(deals.CloseDate).dt.strftime("%b %y"),
        }
    )
    drivers = frame.groupby(
        ["entity_code", "period_id", "product_family", "currency_txn", "fiscal_year"]
        + ["fiscal_period", "month"],
        as_index=False,
        dropna=False,
    ).agg(
        open_opportunities=("amount", "size"),
        amount_pipeline_txn=("amount", "sum"),
        amount_weighted_pipeline_txn=("weighted", "sum"),
        amount_commit_txn=("commit", "sum"),
    )
    return drivers.round(2)


def fct_plan(lines: pd.DataFrame, versions: pd.DataFrame) -> pd.DataFrame:
    """Every plan version's lines; per fiscal year and type, the latest approved reports."""
    approved = versions[versions.Status == "Approved"].sort_values(
        ["Submitted_At", "Version"], ascending=False
    )
    reporting = approved.drop_duplicates(["Fiscal_Year", "Version_Type"]).Version
    year, period, period_id = fiscal_year_and_period(pd.to_datetime(lines.Month, format="%b %y"))
    plan = pd.DataFrame(
        {
            "plan_version_code": lines.Version,
            "entity_code": lines.Entity,
            "account_code": lines.Account,
            "cost_center_code": lines.Cost_Center,
            "period_id": period_id,
            "fiscal_year": year,
            "fiscal_period": period,
            "currency_functional": lines.Currency,
            "amount_functional": lines.Amount.astype(float),
        }
    )
    version = versions.rename(
        columns={
            "Version": "plan_version_code",
            "Version_Name": "plan_version_name",
            "Version_Type": "plan_version_type",
            "Status": "plan_version_status",
            "Fiscal_Year": "plan_version_fiscal_year",
            "Submitted_At": "submitted_at",
        }
    )
    version["plan_version_status"] = version.plan_version_status.str.lower()
    plan = plan.merge(version, how="left", on="plan_version_code")
    plan["is_reporting_version"] = plan.plan_version_code.isin(reporting)
    return plan


def budget_vs_actual(
    lines: pd.DataFrame,
    plan: pd.DataFrame,
    accounts: pd.DataFrame,
    periods: pd.DataFrame,
    src: dict[str, pd.DataFrame],
) -> pd.DataFrame:
    """P&L actuals against the reporting budget and forecast, per period and year to date."""
    key = ["entity_code", "account_code", "cost_center_code", "period_id"]
    actual = lines.merge(accounts.loc[accounts.statement == "PL", ["account_code"]])
    actual = actual.assign(
        cost_center_code=actual.cost_center_code.fillna("NONE"),
        actual=actual.amount_functional,
        budget=0.0,
        forecast=0.0,
    )
    reporting = plan[plan.is_reporting_version]
    planned = reporting.assign(
        actual=0.0,
        budget=reporting.amount_functional.where(reporting.plan_version_type == "Budget", 0.0),
        forecast=reporting.amount_functional.where(reporting.plan_version_type == "Forecast", 0.0),
    )
    columns = [*key, "actual", "budget", "forecast"]
    bva = (
        pd.concat([actual[columns], planned[columns]])
        .groupby(key, as_index=False, dropna=False)[["actual", "budget", "forecast"]]
        .sum()
        .merge(periods[["period_id", "fiscal_year", "fiscal_period", "period_index"]])
        .sort_values([*key[:3], "period_index"])
    )
    ytd = bva.groupby([*key[:3], "fiscal_year"], dropna=False)[["actual", "budget", "forecast"]]
    bva[["actual_ytd", "budget_ytd", "forecast_ytd"]] = ytd.cumsum().to_numpy()
    versions = (
        reporting.groupby(["fiscal_year", "plan_version_type"])
        .plan_version_code.max()
        .unstack()
        .reindex(columns=["Budget", "Forecast"])
        .rename(columns={"Budget": "budget_version_code", "Forecast": "forecast_version_code"})
    )
    bva = bva.merge(versions, how="left", left_on="fiscal_year", right_index=True)
    bva["cost_center_owner"] = bva.cost_center_code.map(
        src["cost_centers"].set_index("CostCenter").PersonResponsible
    )
    bva["currency_functional"] = bva.entity_code.map(
        src["companies"].set_index("CompanyCode").Currency
    )
    for basis in ("", "_ytd"):
        for plan_type in ("budget", "forecast"):
            planned_amount = bva[plan_type + basis]
            variance = bva["actual" + basis] - planned_amount
            bva[f"variance_{plan_type}{basis}_functional"] = variance.round(2)
            if f"{plan_type}{basis}" != "forecast_ytd":  # finsync publishes no such percent
                bva[f"variance_{plan_type}{basis}_percent"] = (
                    100 * variance / planned_amount.abs().where(planned_amount != 0)
                ).round(2)
    return bva.rename(
        columns={
            name: f"amount_{name}_functional"
            for name in ("actual", "budget", "forecast", "actual_ytd", "budget_ytd", "forecast_ytd")
        }
    ).drop(columns="period_index")


def fpa_actuals(lines: pd.DataFrame, accounts: pd.DataFrame, rates: pd.DataFrame) -> pd.DataFrame:
    """P&L actuals by cost center; group amounts at the period's average rate, an account's
    rounding cent on its largest cost center."""
    account = ["period_id", "entity_code", "account_code"]
    actuals = (
        lines.merge(accounts[accounts.statement == "PL"][["account_code"]], on="account_code")
        .assign(cost_center_code=lambda f: f.cost_center_code.fillna("NONE"))
        .groupby([*account, "cost_center_code", "currency_functional"], as_index=False)
        .amount_functional.sum()
        .merge(
            rates[["currency_code", "period_id", "average_rate"]],
            how="left",
            left_on=["currency_functional", "period_id"],
            right_on=["currency_code", "period_id"],
        )
    )
    actuals["amount_group"] = (actuals.amount_functional * actuals.average_rate).round(2)
    by_account = actuals.groupby(account)
    rounding = (by_account.amount_functional.transform("sum") * actuals.average_rate).round(
        2
    ) - by_account.amount_group.transform("sum")
    largest = (
        actuals.assign(size=actuals.amount_functional.abs())
        .sort_values([*account, "size", "cost_center_code"], ascending=[True] * 3 + [False, True])
        .drop_duplicates(account)
        .index
    )
    actuals.loc[largest, "amount_group"] += rounding[largest]
    actuals[["amount_functional", "amount_group"]] = actuals[
        ["amount_functional", "amount_group"]
    ].round(2)
    return actuals.drop(columns=["currency_code", "average_rate"])


def trial_balance_by_account(grid: pd.DataFrame) -> pd.DataFrame:
    """The balances summed over trading partners: one row per entity, account and period."""
    amounts = [
        "opening_functional",
        "movement_functional",
        "carryforward_functional",
        "closing_functional",
        "opening_group",
        "movement_group",
        "carryforward_group",
        "closing_group",
    ]
    trial_balance = grid.groupby(
        ["entity_code", "account_code", "period_id", "fiscal_year", "fiscal_period"]
        + ["currency_functional", "translation_method", "average_rate", "closing_rate"],
        as_index=False,
        dropna=False,  # a period with no rate quoted keeps its rows
    )[amounts].sum()
    trial_balance["currency_group"] = GROUP_CURRENCY
    trial_balance["translation_difference_group"] = (
        trial_balance.closing_group
        - trial_balance.opening_group
        - trial_balance.carryforward_group
        - trial_balance.movement_group
    )
    return trial_balance


def balance_sheet_lines(accounts: pd.DataFrame) -> pd.DataFrame:
    """Each account's balance sheet line: a P&L account's is current-year earnings, after
    the last equity line."""
    lines = accounts.copy()
    last_equity = accounts.statement_line_sort_order[accounts.section == "Equity"].max()
    lines.loc[lines.statement == "PL", LINE] = [
        *("CURRENT_YEAR_EARNINGS", "Equity", "Current-year earnings"),
        last_equity + 1,
    ]
    return lines


def with_calendar(table: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    """The fiscal year and period of each row's period, and the group currency."""
    table = table.merge(periods[["period_id", "fiscal_year", "fiscal_period"]], on="period_id")
    table["currency_group"] = GROUP_CURRENCY
    return table


def by_line(
    amounts: pd.DataFrame,
    lines: pd.DataFrame,
    periods: pd.DataFrame,
    keys: list[str],
    columns: list[str],
) -> pd.DataFrame:
    """`columns` summed per `keys` and statement line (each account's in `lines`), with
    the line's labels and the calendar."""
    summed = (
        amounts.merge(lines[["account_code", *LINE]], on="account_code")
        .groupby([*keys, *LINE], as_index=False)[columns]
        .sum()
    )
    return with_calendar(summed, periods)


def presented(statement: pd.DataFrame, balance: str) -> pd.Series:
    """A balance as the statement shows it: assets debit-positive, the rest credit-positive."""
    return statement[balance].where(statement.section == "Assets", -statement[balance])


def entity_statements(
    trial_balance: pd.DataFrame, accounts: pd.DataFrame, periods: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each entity's income statement (credit-positive, period and year to date) and
    balance sheet, in its functional currency and the group's."""
    keys = ["entity_code", "period_id", "currency_functional"]
    flows = {
        "movement_functional": "amount_period_functional",
        "closing_functional": "amount_ytd_functional",
        "movement_group": "amount_period_group",
        "closing_group": "amount_ytd_group",
    }
    pl_lines = accounts[accounts.statement == "PL"]
    income_statement = by_line(trial_balance, pl_lines, periods, keys, list(flows))
    income_statement = income_statement.rename(columns=flows)
    income_statement[list(flows.values())] *= -1  # credit-positive
    closing = {"closing_functional": "balance_functional", "closing_group": "balance_group"}
    bs_lines = balance_sheet_lines(accounts)
    balance_sheet = by_line(trial_balance, bs_lines, periods, keys, list(closing))
    balance_sheet = balance_sheet.rename(columns=closing)
    for currency in ("functional", "group"):
        balance_sheet[f"amount_{currency}"] = presented(balance_sheet, f"balance_{currency}")
    return income_statement, balance_sheet


def consolidation_eliminations(
    grid: pd.DataFrame,
    accounts: pd.DataFrame,
    companies: pd.DataFrame,
    periods: pd.DataFrame,
) -> pd.DataFrame:
    """Each intercompany leg reversed in the group currency, and per pair, period and kind
    the legs' difference, booked by the group parent on the CTA or the IC P&L account."""
    parent = companies.loc[companies.ConsolidationParent.isna(), "CompanyCode"].iloc[0]
    ic = grid.merge(accounts[["account_code", "is_intercompany"]], on="account_code")
    ic = ic[
        ic.is_intercompany.astype(bool)
        & ic.partner_entity_code.isin(companies.CompanyCode)
        & ((ic.closing_group != 0) | (ic.opening_group != 0))
    ]
    ic = ic.assign(
        pair_code=np.where(
            ic.entity_code < ic.partner_entity_code,
            ic.entity_code + "~" + ic.partner_entity_code,
            ic.partner_entity_code + "~" + ic.entity_code,
        ),
        elimination_type=np.where(ic.statement == "PL", "revenue_and_expense", "balances"),
        elimination_line="leg",
        amount_period_group=-(ic.closing_group - ic.opening_group),
        amount_closing_group=-ic.closing_group,
    )
    amounts = ["amount_period_group", "amount_closing_group"]
    legs = ic[
        ["period_id", "pair_code", "elimination_type", "elimination_line", "entity_code"]
        + ["partner_entity_code", "account_code", *amounts]
    ]
    differences = legs.groupby(["period_id", "pair_code", "elimination_type"], as_index=False)[
        amounts
    ].sum()
    differences[amounts] *= -1
    differences["elimination_line"] = "difference"
    differences["entity_code"] = parent
    differences["partner_entity_code"] = None
    differences["account_code"] = np.where(
        differences.elimination_type == "balances", CTA, IC_PL_DIFFERENCE
    )
    return with_calendar(pd.concat([legs, differences], ignore_index=True), periods)


def consolidated_statements(
    trial_balance: pd.DataFrame,
    eliminations: pd.DataFrame,
    accounts: pd.DataFrame,
    periods: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The group's income statement (the entities' P&L and the intercompany revenue and
    expense eliminated) and balance sheet (all eliminations), in the group currency: the
    entities' amounts and the eliminations' side by side, and their sum."""
    flows = [f"amount_{basis}_{side}_group" for basis in ("period", "ytd") for side in SIDES]
    pl = pd.concat(
        [
            trial_balance.rename(
                columns={
                    "movement_group": "amount_period_entities_group",
                    "closing_group": "amount_ytd_entities_group",
                }
            ),
            eliminations[eliminations.elimination_type == "revenue_and_expense"].rename(
                columns={
                    "amount_period_group": "amount_period_eliminations_group",
                    "amount_closing_group": "amount_ytd_eliminations_group",
                }
            ),
        ]
    )[["account_code", "period_id", *flows]].fillna(0.0)
    pl_lines = accounts[accounts.statement == "PL"]
    income_statement = by_line(pl, pl_lines, periods, ["period_id"], flows)
    income_statement[flows] *= -1  # credit-positive
    for basis in ("period", "ytd"):
        income_statement[f"amount_{basis}_group"] = sum(
            income_statement[f"amount_{basis}_{side}_group"] for side in SIDES
        )
    closing = [f"balance_{side}_group" for side in SIDES]
    bs = pd.concat(
        [
            trial_balance.rename(columns={"closing_group": "balance_entities_group"}),
            eliminations.rename(columns={"amount_closing_group": "balance_eliminations_group"}),
        ]
    )[["account_code", "period_id", *closing]].fillna(0.0)
    bs_lines = balance_sheet_lines(accounts)
    balance_sheet = by_line(bs, bs_lines, periods, ["period_id"], closing)
    balance_sheet["balance_group"] = balance_sheet[closing].sum(axis=1)
    balance_sheet["amount_group"] = presented(balance_sheet, "balance_group")
    return income_statement, balance_sheet


def products(src: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    periods = fiscal_periods(pd.to_datetime(src["journal_items"].PostingDate))
    daily = daily_rates(src["fx_rates"])
    rates = period_rates(daily, periods)
    accounts = src["gl_accounts"].merge(src["statement_items"], on="FinancialStatementItem")
    accounts = accounts.rename(
        columns={
            "GLAccount": "account_code",
            "Statement": "statement",
            "FinancialStatementItem": "statement_line_code",
            "Section": "section",
            "ItemName": "statement_line_name",
            "SortOrder": "statement_line_sort_order",
            "IsIntercompany": "is_intercompany",
        }
    )[["account_code", "statement", *LINE, "is_intercompany"]]
    unmapped = ["UNMAPPED", "BS", "UNMAPPED", "Unmapped", "Unmapped local accounts", 99999, False]
    accounts.loc[len(accounts)] = unmapped

    booked = journal_lines(src, periods)
    # each line's daily rate, merged on its two columns: the others are for the GL export
    on_day = booked[["currency_functional", "posting_date"]].merge(
        daily.rename(columns={"currency_code": "currency_functional", "rate_date": "posting_date"}),
        how="left",
    )
    booked["rate"] = on_day.rate.to_numpy()
    booked["amount_group"] = (booked.amount_functional * booked.rate).round(2)
    lines = booked[COMPUTED_FROM]
    grid = balances(lines, periods, rates, accounts, src["companies"])
    trial_balance = trial_balance_by_account(grid)
    income_statement, balance_sheet = entity_statements(trial_balance, accounts, periods)
    eliminations = consolidation_eliminations(grid, accounts, src["companies"], periods)
    consolidated_income_statement, consolidated_balance_sheet = consolidated_statements(
        trial_balance, eliminations, accounts, periods
    )
    actuals = fpa_actuals(lines, accounts, rates)
    months = periods.set_index("period_id").period_start_date.dt.strftime("%b %y")
    actuals["month"] = actuals.period_id.map(months)
    workforce = workforce_cost_drivers(src, periods)
    workforce["month"] = workforce.period_id.map(months)
    plan = fct_plan(src["plan_lines"], src["plan_versions"])
    return {
        "gl_lines": gl_lines(booked, periods),
        "trial_balance": trial_balance,
        "income_statement": income_statement,
        "balance_sheet": balance_sheet,
        "consolidation_eliminations": eliminations,
        "consolidated_income_statement": consolidated_income_statement,
        "consolidated_balance_sheet": consolidated_balance_sheet,
        "fpa_actuals": actuals,
        "workforce_cost_drivers": workforce,
        "revenue_pipeline_drivers": revenue_pipeline_drivers(src["opportunities"]),
        "fct_plan": plan,
        "budget_vs_actual": budget_vs_actual(lines, plan, accounts, periods, src),
    }


def export(tables: dict[str, pd.DataFrame], out: Path) -> None:
    """One file per fiscal period, as finsync publishes them; the planning tool's files in
    its import layout."""
    reporting = ("trial_balance", "income_statement", "balance_sheet", "gl_lines")
    for name in (*reporting, "fct_plan", "budget_vs_actual"):
        folder = out / "reporting" / name
        folder.mkdir(parents=True)
        for period, rows in tables[name].groupby("period_id"):
            rows.to_parquet(folder / f"{period}.parquet", index=False)
    for name, table in (("actuals", "fpa_actuals"), ("workforce", "workforce_cost_drivers")):
        folder = out / "fpa" / name
        folder.mkdir(parents=True)
        for period, rows in tables[table].groupby("period_id"):
            layout = rows.sort_values(list(FPA_LAYOUT[name])[:3])[list(FPA_LAYOUT[name])]
            layout.rename(columns=FPA_LAYOUT[name]).to_csv(folder / f"{period}.csv", index=False)
    pipeline = tables["revenue_pipeline_drivers"].sort_values(
        ["fiscal_year", "fiscal_period", "entity_code", "product_family", "currency_txn"]
    )
    pipeline = pipeline[list(FPA_LAYOUT["pipeline"])].rename(columns=FPA_LAYOUT["pipeline"])
    pipeline.to_csv(out / "fpa" / "pipeline.csv", index=False)


def run(data: Path) -> dict[str, pd.DataFrame]:
    out = data / "pandas"
    shutil.rmtree(out, ignore_errors=True)
    tables = products(load(data / "sandbox"))
    export(tables, out / "exports")
    for name, table in tables.items():  # for the bench's agreement check
        if name not in {"gl_lines", "fpa_actuals"}:
            table.to_parquet(out / f"{name}.parquet", index=False)
    return tables


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path)
    run(parser.parse_args().data.resolve())
