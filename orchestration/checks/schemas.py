"""Pandera schemas (polars backend) for the raw feeds and the published finance products.

A schema states what a table promises: types, ranges, allowed values, its key, and the
finance rules that hold row by row (a journal line whose document does not sum to zero
fails, with every other line of that document). Columns dlt adds (`_dlt_*`) are not
part of the contract: a check reads only the columns its schema names.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandera.polars as pa
import polars as pl

from orchestration.partitions import FISCAL_YEAR_START_MONTH

DEC = pl.Decimal(18, 2)
TS = pl.Datetime(time_unit="us", time_zone="UTC")
CURRENCY = pa.Check.str_matches(r"^[A-Z]{3}$", error="ISO 4217 currency code")
COMPANY = pa.Check.str_matches(r"^[A-Z]{2}\d{2}$", error="company code like US01")
GL_ACCOUNT = pa.Check.str_matches(r"^\d{6}$", error="six-digit GL account")
SOURCE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
MILESTONES = ["SubledgersClosed", "AccrualsPosted", "IntercompanyMatched", "PeriodLocked"]


def balances(amount: str, *document: str, name: str = "journal_balances") -> pa.Check:
    """Every line of a document whose amounts do not sum to zero fails.

    A table-wide rule: a line fails with its document, wherever the other lines are. The
    amount is an SQL expression (polars reads it with `pl.sql_expr`) and the check's
    statistics state it with the document's columns, so that a check of a table too large
    to hold evaluates the same rule in the warehouse (orchestration/checks/suites.py)."""
    return pa.Check(
        lambda data: data.lazyframe.select(pl.sql_expr(amount).sum().over(list(document)) == 0),
        name=name,
        error=f"{name}: amounts do not sum to zero over {', '.join(document)}",
        statistics={"amount": amount, "over": list(document)},
    )


def table_wide(check: pa.Check) -> bool:
    """Whether the check compares a row with others (so it cannot run on a batch alone)."""
    return "over" in (check.statistics or {})


def posted_in_its_period() -> pa.Check:
    """The stated fiscal period is the posting date's: no posting outside a known period."""
    month = pl.col("posting_date").dt.month()
    fiscal_period = (month - FISCAL_YEAR_START_MONTH) % 12 + 1
    fiscal_year = pl.col("posting_date").dt.year() + (month >= FISCAL_YEAR_START_MONTH).cast(
        pl.Int32
    )
    return pa.Check(
        lambda data: data.lazyframe.select(
            (pl.col("fiscal_period") == fiscal_period) & (pl.col("fiscal_year") == fiscal_year)
        ),
        name="posted_in_known_period",
        error="posted_in_known_period: fiscal year/period is not the posting date's",
    )


def adds_up(total: str, *parts: str) -> pa.Check:
    """`total` is the sum of `parts` (for a variance: actual = plan + variance)."""
    parts_sum = pl.col(parts[0])
    for part in parts[1:]:
        parts_sum = parts_sum + pl.col(part)
    name = f"{total}_adds_up"
    return pa.Check(
        lambda data: data.lazyframe.select(pl.col(total) == parts_sum),
        name=name,
        error=f"{name}: {total} is not {' + '.join(parts)}",
    )


def col(dtype, *checks: pa.Check, nullable: bool = False) -> pa.Column:
    """A column and its row-by-row checks; a table's uniqueness is its contract's key."""
    return pa.Column(dtype, checks=list(checks), nullable=nullable)


@dataclass(frozen=True)
class Contract:
    """A table's schema and how to read it: its key orders the failing-row sample."""

    schema: str  # warehouse schema
    table: str
    frame: pa.DataFrameSchema
    key: tuple[str, ...]
    changed_at: str | None = None  # the source's last-change column
    # the warehouse's change column: every row a writer inserts or rewrites gets a value
    # greater than any before (dlt's `_dlt_load_id` on a merge, dbt's `_built_at` on the
    # periods a run rebuilds), so a check validates by row only what changed since its last
    # passing run (orchestration/checks/suites.py)
    changed_by: str | None = None
    totals: tuple[str, str] | None = None  # (amount, currency): control totals per currency
    # columns that identify a person or state one's pay: a failing row shows them
    # pseudonymized (identifiers) or withheld (amounts) in quarantine and metadata
    personal: tuple[str, ...] = ()
    # a table that is a log of versions (dlt appends each version of a key): their order,
    # latest first, as staging orders them. The contract holds for each key's latest version.
    versions_by: str | None = None

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    @property
    def fingerprint(self) -> str:
        """Changes when the contract's rules may have: a watermark written under other rules
        does not spare a row from the rules of now. The rules' code is read as this module's
        source (a lambda's body has no stable text of its own), with the contract's name."""
        return hashlib.sha256(
            f"{SOURCE}:{self.schema}.{self.table}:{self.changed_by}".encode()
        ).hexdigest()[:16]

    @property
    def rowwise(self) -> pa.DataFrameSchema:
        """The schema without its table-wide rules (the key's uniqueness, `balances`): what
        holds for each row alone, so that it can be validated on any batch of rows."""
        return pa.DataFrameSchema(
            self.frame.columns,
            checks=[check for check in self.frame.checks if not table_wide(check)],
            name=self.frame.name,
            coerce=self.frame.coerce,
        )


def contract(
    schema: str,
    table: str,
    columns: dict,
    key: list[str],
    checks: list | None = None,
    changed_at: str | None = None,
    totals: tuple[str, str] | None = None,
    personal: tuple[str, ...] = (),
    changed_by: str | None = None,
    versions_by: str | None = None,
) -> Contract:
    frame = pa.DataFrameSchema(
        columns, checks=checks or [], unique=key, name=f"{schema}.{table}", coerce=False
    )
    return Contract(
        schema, table, frame, tuple(key), changed_at, changed_by, totals, personal, versions_by
    )


def several_versions(table: str, key: list[str] | tuple[str, ...]) -> str:
    """The query of the hashes (`key_hash`) of the keys of which `table` holds more than one
    row: one aggregate over one 64-bit value a row. Only these keys can have a superseded
    version, or a latest version twice (a hash shared by two keys only adds a few rows)."""
    keys = ", ".join(f'"{k}"' for k in key)
    return f"select hash({keys}) as key_hash from {table} group by all having count(*) > 1"


def several_versions_since(
    table: str, key: list[str] | tuple[str, ...], changed: str, kept: str
) -> str:
    """`several_versions` of a log of versions that is only appended to, from those a passing
    run found (`kept`, a relation of their hashes): a key gets its second row only from a
    row changed since (`changed`), so only those rows' keys are counted over the log.
    Hashing every key of the log is cheap (0.1 s a 10 million rows here), grouping them
    all is not (1 s)."""
    keys = ", ".join(f'"{k}"' for k in key)
    return (
        f"select hash({keys}) as key_hash from {table}"
        f" where hash({keys}) in (select hash({keys}) from {table} where {changed})"
        f" group by all having count(*) > 1 union select key_hash from {kept}"
    )


def of_several(key: list[str] | tuple[str, ...], several: str) -> str:
    """The condition that a row's key is among `several` (a relation of `several_versions`)."""
    keys = ", ".join(f'"{k}"' for k in key)
    return f"hash({keys}) in (select key_hash from {several})"


def superseded_versions(
    table: str, key: list[str] | tuple[str, ...], order: str, several: str | None = None
) -> str:
    """The query of the rowids of `table`'s rows that a later version of their key
    supersedes (`order`, latest first). Versions tied in `order` (the same change, loaded
    by the same load) all stay: a row copied within a load is a doubled row, for the
    contract's key and the checkpoints' counts to report, where staging keeps one.

    Almost every key has one version: only the rows of `several_versions` (or of the
    relation `several` holding its answer) are ranked, each within its own key."""
    keys = ", ".join(f'"{k}"' for k in key)
    several = several or f"({several_versions(table, key)})"
    return (
        f"select rowid from {table} where {of_several(key, several)}"
        f" qualify rank() over (partition by {keys} order by {order}) > 1"
    )


def latest_versions(table: str, key: list[str] | tuple[str, ...], order: str) -> str:
    """The query of the latest version of each key of `table`, a log of versions (ties
    kept, as `superseded_versions` keeps them), nearly as cheap to read as the log itself:
    the keys of one version as they are, only the others ranked. Without rowids: `table`
    may be a view (a lake's)."""
    keys = ", ".join(f'"{k}"' for k in key)
    return (
        f"with several as ({several_versions(table, key)})"
        f" select * from {table} where not {of_several(key, 'several')}"
        f" union all select * from {table} where {of_several(key, 'several')}"
        f" qualify rank() over (partition by {keys} order by {order}) = 1"
    )


def versions_order(change_column: str | None) -> str:
    """The order of a log's versions of a key, latest first: by the source's last change
    (where the table has one), then by dlt's load."""
    return (
        f'"{change_column}" desc nulls last, _dlt_load_id desc'
        if change_column
        else "_dlt_load_id desc"
    )


JOURNAL_VERSIONS = versions_order("last_change_date_time")


RAW = [
    contract(
        "raw_erp",
        "journal_items",
        {
            "company_code": col(str, COMPANY),
            "fiscal_year": col(pl.Int32, pa.Check.in_range(2000, 2100)),
            "fiscal_period": col(pl.Int32, pa.Check.in_range(1, 12)),
            "accounting_document": col(str, pa.Check.str_matches(r"^\d{10}$")),
            "ledger_gl_line_item": col(pl.Int32, pa.Check.ge(1)),
            "accounting_document_type": col(
                str,
                pa.Check.isin(["AB", "RV", "WL", "DZ", "KR", "KZ", "PR", "SA", "AF", "IC", "TX"]),
            ),
            "posting_date": col(pl.Date),
            "gl_account": col(str, GL_ACCOUNT),
            "transaction_currency": col(str, CURRENCY),
            "amount_in_transaction_currency": col(DEC),
            "company_code_currency": col(str, CURRENCY),
            "amount_in_company_code_currency": col(DEC),
            "debit_credit_code": col(str, pa.Check.isin(["S", "H"])),
        },
        key=["company_code", "fiscal_year", "accounting_document", "ledger_gl_line_item"],
        changed_at="last_change_date_time",
        changed_by="_dlt_load_id",
        versions_by=JOURNAL_VERSIONS,
        totals=("amount_in_company_code_currency", "company_code_currency"),
        checks=[
            balances(
                "amount_in_company_code_currency",
                "company_code",
                "fiscal_year",
                "accounting_document",
            ),
            posted_in_its_period(),
            pa.Check(
                lambda data: data.lazyframe.select(
                    (pl.col("debit_credit_code") == "S")
                    == (pl.col("amount_in_company_code_currency") >= 0)
                ),
                name="debit_credit_code_matches_sign",
                error="S (debit) lines are positive, H (credit) lines negative",
            ),
        ],
    ),
    contract(
        "raw_erp",
        "gl_accounts",
        {
            "gl_account": col(str, GL_ACCOUNT),
            "gl_account_type": col(str, pa.Check.isin(["X", "P"])),
            "financial_statement_item": col(str),
            "is_intercompany": col(pl.Boolean),
        },
        key=["gl_account"],
    ),
    contract(
        "raw_erp",
        "company_codes",
        {
            "company_code": col(str, COMPANY),
            "country": col(str, pa.Check.str_matches(r"^[A-Z]{2}$")),
            "currency": col(str, CURRENCY),
            "accounting_system": col(str),
        },
        key=["company_code"],
    ),
    contract(
        "raw_erp",
        "cost_centers",
        {"cost_center": col(str), "company_code": col(str, COMPANY), "hierarchy_node": col(str)},
        key=["cost_center"],
    ),
    contract(
        "raw_erp",
        "cost_center_nodes",
        {"node": col(str), "parent_node": col(str, nullable=True), "level": col(pl.Int32)},
        key=["node"],
        checks=[pa.Check(lambda data: data.lazyframe.select(pl.col("level").is_between(1, 5)))],
    ),
    contract(
        "raw_erp",
        "financial_statement_items",
        {
            "financial_statement_item": col(str),
            "statement": col(str, pa.Check.isin(["BS", "PL"])),
            "normal_balance": col(str, pa.Check.isin(["D", "C"])),
            "sort_order": col(pl.Int32, pa.Check.ge(0)),
        },
        key=["financial_statement_item"],
    ),
    contract(
        "raw_erp",
        "fx_rates",
        {
            "exchange_rate_type": col(str, pa.Check.isin(["M"])),
            "from_currency": col(str, CURRENCY),
            "to_currency": col(str, CURRENCY),
            "valid_from": col(pl.Date),
            "exchange_rate": col(pl.Decimal(18, 8), pa.Check.gt(0)),
        },
        key=["exchange_rate_type", "from_currency", "to_currency", "valid_from"],
        changed_at="valid_from",
    ),
    contract(
        "raw_erp",
        "products",
        {"product": col(str), "product_name": col(str), "product_family": col(str)},
        key=["product"],
    ),
    contract(
        "raw_erp",
        "projects",
        {"project": col(str), "company_code": col(str, COMPANY), "start_date": col(pl.Date)},
        key=["project"],
    ),
    # The close calendar and its milestone events (the ERP's API): what the close status
    # product and the milestone sensor read. Journal changes from the API are appended to
    # raw_erp.journal_items, whose contract checks them with the bulk history.
    contract(
        "raw_erp",
        "close_calendar",
        {
            "company_code": col(str, COMPANY),
            "fiscal_year": col(pl.Int32, pa.Check.in_range(2000, 2100)),
            "fiscal_period": col(pl.Int32, pa.Check.in_range(1, 12)),
            "milestone": col(str, pa.Check.isin(MILESTONES)),
            "working_day": col(pl.Int32, pa.Check.in_range(1, 23)),
            "planned_date": col(pl.Date),
        },
        key=["company_code", "fiscal_year", "fiscal_period", "milestone"],
        changed_at="last_change_date_time",
    ),
    contract(
        "raw_erp",
        "close_milestone_events",
        {
            "event_id": col(str),
            "company_code": col(str, COMPANY),
            "fiscal_year": col(pl.Int32, pa.Check.in_range(2000, 2100)),
            "fiscal_period": col(pl.Int32, pa.Check.in_range(1, 12)),
            "milestone": col(str, pa.Check.isin(MILESTONES)),
        },
        key=["event_id"],
        changed_at="last_change_date_time",
    ),
    contract(
        "raw_regional_erp",
        "journal_lines",
        {
            "empresa": col(str),
            "numero_lancamento": col(str, pa.Check.str_matches(r"^LC\d{12}$")),
            "linha": col(pl.Int32, pa.Check.ge(1)),
            "tipo": col(
                str,
                pa.Check.isin(
                    ["SI", "NFS", "CMV", "REC", "NFE", "PAG", "FOL", "PRV", "DEP", "ICO", "IRP"]
                ),
            ),
            "data_lancamento": col(pl.Date),
            "conta": col(str, pa.Check.str_matches(r"^\d\.\d\.\d{2}\.\d{3}$")),
            "moeda": col(str, CURRENCY),
            "debito_brl": col(DEC, pa.Check.ge(0)),
            "credito_brl": col(DEC, pa.Check.ge(0)),
            "_file_name": col(str),
        },
        key=["numero_lancamento", "linha"],
        changed_at="data_lancamento",
        changed_by="_dlt_load_id",
        totals=("debito_brl - credito_brl", "moeda"),
        checks=[
            balances("debito_brl - credito_brl", "numero_lancamento"),
            pa.Check(
                lambda data: data.lazyframe.select(
                    pl.col("data_lancamento").dt.strftime("%Y-%m")
                    == pl.col("_file_name").str.extract(r"(\d{4}-\d{2})")
                ),
                name="posted_in_known_period",
                error="posted_in_known_period: posting date is outside its drop's month",
            ),
        ],
    ),
    contract(
        "raw_regional_erp",
        "accounts",
        {"conta": col(str), "natureza": col(str, pa.Check.isin(["D", "C"]))},
        key=["conta"],
    ),
    contract(
        "raw_regional_erp",
        "cost_centers",
        {"centro_custo": col(str, pa.Check.str_matches(r"^CC-[A-Z]{3}-\d{2}$"))},
        key=["centro_custo"],
    ),
    contract(
        "raw_payroll",
        "workers",
        {
            "worker_id": col(str),
            "company": col(str, COMPANY),
            "cost_center": col(str),
            "hire_date": col(pl.Date),
            "termination_date": col(pl.Date, nullable=True),
        },
        key=["worker_id"],
        personal=("worker_id",),
    ),
    contract(
        "raw_payroll",
        "payroll_results",
        {
            "payroll_result_id": col(str),
            "worker_id": col(str),
            "company": col(str, COMPANY),
            "pay_period_start": col(pl.Date),
            "pay_period_end": col(pl.Date),
            "currency": col(str, CURRENCY),
            "gross_earnings": col(DEC, pa.Check.ge(0)),
            "employer_taxes": col(DEC, pa.Check.ge(0)),
            "benefits": col(DEC, pa.Check.ge(0)),
        },
        key=["payroll_result_id"],
        changed_at="last_updated",
        totals=("gross_earnings + employer_taxes + benefits", "currency"),
        personal=("payroll_result_id", "worker_id", "gross_earnings", "employer_taxes", "benefits"),
        checks=[
            pa.Check(
                lambda data: data.lazyframe.select(
                    pl.col("pay_period_end") >= pl.col("pay_period_start")
                ),
                name="pay_period_ordered",
            )
        ],
    ),
    contract(
        "raw_crm",
        "accounts",
        {"id": col(str), "name": col(str), "legal_entity_c": col(str, COMPANY)},
        key=["id"],
    ),
    contract(
        "raw_crm",
        "opportunities",
        {
            "id": col(str),
            "account_id": col(str),
            "legal_entity_c": col(str, COMPANY),
            "amount": col(DEC, pa.Check.ge(0)),
            "currency_iso_code": col(str, CURRENCY),
            "stage_name": col(
                str,
                pa.Check.isin(
                    [
                        "Prospecting",
                        "Qualification",
                        "Needs Analysis",
                        "Proposal/Price Quote",
                        "Negotiation/Review",
                        "Closed Won",
                        "Closed Lost",
                    ]
                ),
            ),
            "probability": col(pl.Int32, pa.Check.in_range(0, 100)),
            "close_date": col(pl.Date),
            "is_won": col(pl.Boolean),
        },
        key=["id"],
        changed_at="last_modified_date",
        totals=("amount", "currency_iso_code"),
        checks=[
            pa.Check(
                lambda data: data.lazyframe.select(
                    pl.col("is_won") == (pl.col("stage_name") == "Closed Won")
                ),
                name="won_means_closed_won",
            )
        ],
    ),
    contract(
        "raw_fpa",
        "plan_versions",
        {
            "version": col(str),
            "version_type": col(str, pa.Check.isin(["Budget", "Forecast"])),
            "fiscal_year": col(pl.Int32, pa.Check.in_range(2000, 2100)),
            "status": col(str, pa.Check.isin(["Draft", "Submitted", "Approved"])),
        },
        key=["version"],
    ),
    contract(
        "raw_fpa",
        "plan_lines",
        {
            "version": col(str),
            "entity": col(str, COMPANY),
            "account": col(str, GL_ACCOUNT),
            "cost_center": col(str),
            "month": col(str, pa.Check.str_matches(r"^[A-Z][a-z]{2} \d{2}$")),
            "currency": col(str, CURRENCY),
            "amount": col(DEC),
        },
        key=["version", "entity", "account", "cost_center", "month"],
        totals=("amount", "currency"),
    ),
]

PERIOD = pa.Check.str_matches(r"^\d{4}-P(0[1-9]|1[0-2])$", error="fiscal period id like 2025-P01")

PRODUCTS = [
    contract(
        "marts",
        "fct_gl_journal_lines",
        {
            "journal_line_key": col(str),
            "document_key": col(str),
            "entity_code": col(str),
            "period_id": col(str, PERIOD),
            "account_code": col(str),
            "posting_date": col(pl.Date),
            "currency_txn": col(str, CURRENCY),
            "amount_txn": col(DEC),
            "currency_functional": col(str, CURRENCY),
            "amount_functional": col(DEC),
            "currency_group": col(str, CURRENCY),
            "amount_group": col(DEC),
        },
        key=["journal_line_key"],
        changed_at="posting_date",
        changed_by="_built_at",
        totals=("amount_functional", "currency_functional"),
        # that each document balances, in functional and in each transaction currency, is
        # the fact's own dbt tests (sums_to_zero): they fail the dbt step, which holds the
        # exports back as this check would, and hold in a dbt build without Dagster too
    ),
    contract(
        "marts",
        "trial_balance",
        {
            "entity_code": col(str),
            "account_code": col(str),
            "period_id": col(str, PERIOD),
            "currency_functional": col(str, CURRENCY),
            "opening_functional": col(DEC),
            "movement_functional": col(DEC),
            "closing_functional": col(DEC),
        },
        key=["entity_code", "account_code", "period_id"],
        totals=("movement_functional", "currency_functional"),
        checks=[
            balances(
                "closing_functional",
                "entity_code",
                "period_id",
                name="trial_balance_sums_to_zero",
            ),
        ],
    ),
    contract(
        "marts",
        "income_statement",
        {
            "entity_code": col(str),
            "period_id": col(str, PERIOD),
            "statement_line_code": col(str),
            "section": col(str),
            "amount_period_functional": col(DEC),
            "amount_ytd_functional": col(DEC),
        },
        key=["entity_code", "period_id", "statement_line_code"],
    ),
    contract(
        "marts",
        "balance_sheet",
        {
            "entity_code": col(str),
            "period_id": col(str, PERIOD),
            "statement_line_code": col(str),
            "section": col(str, pa.Check.isin(["Assets", "Liabilities", "Equity", "Unmapped"])),
            "balance_functional": col(DEC),
        },
        key=["entity_code", "period_id", "statement_line_code"],
        checks=[
            balances(
                "balance_functional",
                "entity_code",
                "period_id",
                name="balance_sheet_balances",
            )
        ],
    ),
    contract(
        "marts",
        "consolidated_income_statement",
        {
            "period_id": col(str, PERIOD),
            "statement_line_code": col(str),
            "section": col(str),
            "currency_group": col(str, CURRENCY),
            "amount_period_entities_group": col(DEC),
            "amount_period_eliminations_group": col(DEC),
            "amount_period_group": col(DEC),
            "amount_ytd_group": col(DEC),
        },
        key=["period_id", "statement_line_code"],
        checks=[
            adds_up(
                "amount_period_group",
                "amount_period_entities_group",
                "amount_period_eliminations_group",
            )
        ],
    ),
    contract(
        "marts",
        "consolidated_balance_sheet",
        {
            "period_id": col(str, PERIOD),
            "statement_line_code": col(str),
            "section": col(str, pa.Check.isin(["Assets", "Liabilities", "Equity", "Unmapped"])),
            "currency_group": col(str, CURRENCY),
            "balance_entities_group": col(DEC),
            "balance_eliminations_group": col(DEC),
            "balance_group": col(DEC),
        },
        key=["period_id", "statement_line_code"],
        checks=[
            balances("balance_group", "period_id", name="consolidated_balance_sheet_balances"),
            adds_up("balance_group", "balance_entities_group", "balance_eliminations_group"),
        ],
    ),
    contract(
        "marts",
        "consolidation_eliminations",
        {
            "period_id": col(str, PERIOD),
            "pair_code": col(str),
            "elimination_type": col(str, pa.Check.isin(["balances", "revenue_and_expense"])),
            "elimination_line": col(str, pa.Check.isin(["leg", "difference"])),
            "entity_code": col(str, COMPANY),
            "partner_entity_code": col(str, COMPANY, nullable=True),  # none on a difference line
            "account_code": col(str),
            "currency_group": col(str, CURRENCY),
            "amount_period_group": col(DEC),
            "amount_closing_group": col(DEC),
        },
        key=[
            "period_id",
            "pair_code",
            "elimination_type",
            "elimination_line",
            "entity_code",
            "account_code",
            "partner_entity_code",
        ],
        checks=[
            balances(
                "amount_period_group",
                "period_id",
                "pair_code",
                "elimination_type",
                name="eliminations_balance",
            )
        ],
    ),
    contract(
        "marts",
        "intercompany_mismatches",
        {
            "period_id": col(str, PERIOD),
            "pair_code": col(str),
            "elimination_type": col(str, pa.Check.isin(["balances", "revenue_and_expense"])),
            "currency_txn": col(str, CURRENCY),
            "entity_code_a": col(str, COMPANY),
            "entity_code_b": col(str, COMPANY),
            "amount_txn_a": col(DEC),
            "amount_txn_b": col(DEC),
            "difference_txn": col(DEC),
            "is_mismatched": col(pl.Boolean),
        },
        key=["period_id", "pair_code", "elimination_type", "currency_txn"],
        checks=[
            adds_up("difference_txn", "amount_txn_a", "amount_txn_b"),
            pa.Check(
                lambda data: data.lazyframe.select(
                    pl.col("is_mismatched") == (pl.col("difference_txn") != 0)
                ),
                name="mismatched_means_a_difference",
                error="is_mismatched is set exactly where the legs leave a difference",
            ),
        ],
    ),
    contract(
        "marts",
        "budget_vs_actual",
        {
            "entity_code": col(str, COMPANY),
            "account_code": col(str),
            "cost_center_code": col(str),
            "period_id": col(str, PERIOD),
            "currency_functional": col(str, CURRENCY),
            "amount_actual_functional": col(DEC),
            "amount_budget_functional": col(DEC),
            "amount_forecast_functional": col(DEC),
            "variance_budget_functional": col(DEC),
            "variance_forecast_functional": col(DEC),
        },
        key=["entity_code", "account_code", "cost_center_code", "period_id"],
        totals=("amount_actual_functional", "currency_functional"),
        checks=[
            adds_up(
                "amount_actual_functional", "amount_budget_functional", "variance_budget_functional"
            ),
            adds_up(
                "amount_actual_functional",
                "amount_forecast_functional",
                "variance_forecast_functional",
            ),
        ],
    ),
    contract(
        "marts",
        "fct_plan",
        {
            "plan_version_code": col(str),
            "entity_code": col(str, COMPANY),
            "account_code": col(str, GL_ACCOUNT),
            "cost_center_code": col(str),
            "period_id": col(str, PERIOD),
            "plan_version_type": col(str, pa.Check.isin(["Budget", "Forecast"])),
            "plan_version_status": col(str, pa.Check.isin(["draft", "submitted", "approved"])),
            "is_reporting_version": col(pl.Boolean),
            "currency_functional": col(str, CURRENCY),
            "amount_functional": col(DEC),
        },
        key=["plan_version_code", "entity_code", "account_code", "cost_center_code", "period_id"],
        totals=("amount_functional", "currency_functional"),
        checks=[
            pa.Check(
                lambda data: data.lazyframe.select(
                    ~pl.col("is_reporting_version") | (pl.col("plan_version_status") == "approved")
                ),
                name="only_approved_versions_report",
                error="only an approved version feeds budget_vs_actual",
            )
        ],
    ),
    contract(
        "marts",
        "workforce_cost_drivers",
        {
            "entity_code": col(str, COMPANY),
            "cost_center_code": col(str),
            "period_id": col(str, PERIOD),
            "reporting_level": col(str, pa.Check.isin(["cost_center", "node", "root"])),
            "is_suppressed": col(pl.Boolean),
            "headcount": col(pl.Int32, pa.Check.gt(0), nullable=True),
            "currency_functional": col(str, CURRENCY),
            "gross_earnings_functional": col(DEC, nullable=True),
            "employer_taxes_functional": col(DEC, nullable=True),
            "benefits_functional": col(DEC, nullable=True),
            "workforce_cost_functional": col(DEC, nullable=True),
        },
        key=["entity_code", "cost_center_code", "period_id"],
        totals=("workforce_cost_functional", "currency_functional"),
        checks=[
            adds_up(
                "workforce_cost_functional",
                "gross_earnings_functional",
                "employer_taxes_functional",
                "benefits_functional",
            ),
            pa.Check(
                lambda data: data.lazyframe.select(
                    pl.col("is_suppressed") == pl.col("workforce_cost_functional").is_null()
                ),
                name="suppressed_rows_show_no_pay",
                error="a suppressed group shows no pay, and only a suppressed one",
            ),
        ],
    ),
    contract(
        "marts",
        "revenue_pipeline_drivers",
        {
            "entity_code": col(str, COMPANY),
            "period_id": col(str, PERIOD),
            "product_family": col(str, nullable=True),
            "currency_txn": col(str, CURRENCY),
            "open_opportunities": col(pl.Int32, pa.Check.gt(0)),
            "amount_pipeline_txn": col(DEC),
            "amount_weighted_pipeline_txn": col(DEC),
            "amount_commit_txn": col(DEC),
        },
        key=["entity_code", "period_id", "product_family", "currency_txn"],
        totals=("amount_weighted_pipeline_txn", "currency_txn"),
        checks=[
            pa.Check(
                lambda data: data.lazyframe.select(
                    pl.col("amount_weighted_pipeline_txn").abs()
                    <= pl.col("amount_pipeline_txn").abs()
                ),
                name="weighted_pipeline_within_pipeline",
                error="the probability-weighted pipeline exceeds the pipeline",
            )
        ],
    ),
    contract(
        "marts",
        "close_status",
        {
            "entity_code": col(str, COMPANY),
            "period_id": col(str, PERIOD),
            "close_status": col(str, pa.Check.isin(["done", "pending", "late"])),
            "milestones_planned": col(pl.Int64, pa.Check.gt(0)),
            "milestones_done": col(pl.Int64, pa.Check.ge(0)),
        },
        key=["entity_code", "period_id"],
        checks=[
            pa.Check(
                lambda data: data.lazyframe.select(
                    (pl.col("close_status") == "done")
                    == (pl.col("milestones_done") == pl.col("milestones_planned"))
                ),
                name="done_means_every_milestone_done",
                error="a period is done exactly when all its milestones are",
            )
        ],
    ),
    contract(
        "marts",
        "dim_fiscal_period",
        {
            "period_id": col(str, PERIOD),
            "fiscal_year": col(pl.Int32),
            "fiscal_period": col(pl.Int32, pa.Check.in_range(1, 12)),
            "period_start_date": col(pl.Date),
            "period_end_date": col(pl.Date),
        },
        key=["period_id"],
    ),
    contract(
        "marts",
        "dim_account",
        {
            "account_code": col(str),
            "statement": col(str, pa.Check.isin(["BS", "PL"])),
            "section": col(str),
        },
        key=["account_code"],
    ),
    contract(
        "marts",
        "dim_legal_entity",
        {"entity_code": col(str, COMPANY), "currency_functional": col(str, CURRENCY)},
        key=["entity_code"],
    ),
    contract(
        "marts",
        "dim_cost_center",
        {"cost_center_code": col(str), "entity_code": col(str, nullable=True)},
        key=["cost_center_code"],
    ),
    contract(
        "marts",
        "dim_currency",
        {"currency_code": col(str, CURRENCY), "minor_unit": col(pl.Int32, pa.Check.in_range(0, 4))},
        key=["currency_code"],
    ),
]
