"""The source systems' own control totals, loaded so that checkpoints can compare them with
what the warehouse holds: the ERP's trial balance (debits and credits per company, period
and account) and the payroll register's totals (results and cost per company and pay
period). They are fetched right after the raw loads, through the same APIs and
credentials, and replace the previous fetch: a control total is a figure as of now.
"""

from __future__ import annotations

from collections.abc import Iterator

import dlt
import duckdb
import polars as pl
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator, OffsetPaginator

from ingest.api import ClientCredentials
from ingest.erp import ROOT as ERP_ROOT
from ingest.payroll import ROOT as PAYROLL_ROOT
from orchestration.reconciliation.status import SCHEMA

ERP_TRIAL_BALANCE = f"{SCHEMA}.source_erp_trial_balance"
PAYROLL_REGISTER = f"{SCHEMA}.source_payroll_register"

# table -> (select of the fetched fields, typed)
SHAPES = {
    ERP_TRIAL_BALANCE: """
        select "CompanyCode" as company_code, cast("FiscalYear" as integer) as fiscal_year,
               cast("FiscalPeriod" as integer) as fiscal_period, "GLAccount" as gl_account,
               "CompanyCodeCurrency" as company_code_currency,
               cast("DebitAmountInCoCodeCrcy" as decimal(18, 2)) as debit_amount,
               cast("CreditAmountInCoCodeCrcy" as decimal(18, 2)) as credit_amount,
               cast("PeriodBalanceInCoCodeCrcy" as decimal(18, 2)) as period_balance,
               cast("JournalEntryItemCount" as integer) as journal_entry_items
        from fetched""",
    PAYROLL_REGISTER: """
        select "Company" as company, cast("Pay_Period_End" as date) as pay_period_end,
               "Currency" as currency, cast("Results" as integer) as results,
               cast("Gross_Earnings" as decimal(18, 2)) as gross_earnings,
               cast("Employer_Taxes" as decimal(18, 2)) as employer_taxes,
               cast("Benefits" as decimal(18, 2)) as benefits
        from fetched""",
}


def _client(system: str, paginator) -> RESTClient:
    base_url = dlt.config[f"sources.{system}.base_url"]
    return RESTClient(
        base_url=base_url,
        auth=ClientCredentials(token_url=f"{base_url}/oauth/token", system=system),
        paginator=paginator,
    )


def erp_trial_balance() -> Iterator[dict]:
    client = _client("erp", JSONLinkPaginator(next_url_path="['@odata.nextLink']"))
    for page in client.paginate(f"{ERP_ROOT}/TrialBalance", data_selector="value"):
        yield from page


def payroll_register() -> Iterator[dict]:
    client = _client("payroll", OffsetPaginator(limit=500, total_path="total"))
    for page in client.paginate(f"{PAYROLL_ROOT}/payrollRegister/totals", data_selector="data"):
        yield from page


def load(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> int:
    """Replace `table` with the fetched rows; an empty answer is an error, not zero totals."""
    if not rows:
        raise ValueError(f"the source answered no control totals for {table}")
    fetched = pl.DataFrame(rows, infer_schema_length=None).cast(pl.String)  # noqa: F841
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(f"create or replace table {table} as {SHAPES[table]}")
    [(count,)] = con.execute(f"select count(*) from {table}").fetchall()
    return count
