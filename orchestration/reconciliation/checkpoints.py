"""Every reconciliation checkpoint, declared once: what it compares, at which grain, within
which tolerance, who owns a break, and whether a break stops the FP&A export.

A checkpoint compares two sides, each a query returning one value per entity, period and
unit (a currency for amounts, `rows` for counts). The left side is what is expected (the
source's own figure, the sub-ledger, the mart), the right side what was found (loaded,
posted, exported). A key whose difference exceeds the tolerance is a break. Checkpoints
of the `warehouse` stage run before the exports and may block them; those of the
`exports` stage run after the files are written, so they alert but cannot block.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from orchestration.alerts import CONTROLLER, INTEGRATION, PLATFORM
from orchestration.checks.schemas import JOURNAL_VERSIONS, latest_versions, versions_order

WAREHOUSE, EXPORTS = "warehouse", "exports"

# A fiscal period id from a date: the calendar mart knows the fiscal year's start month.
PERIOD_OF = """
    (select fiscal_period.period_id from marts.dim_fiscal_period as fiscal_period
     where {date} between fiscal_period.period_start_date and fiscal_period.period_end_date)
"""
# raw_erp.journal_items is the log of journal line versions: the ERP's figures are the
# latest version of each line (a count of the log would count versions); a line copied
# within one load still counts twice. Finding the latest versions reads the whole log
# (about 2 s at 10M lines), so the three checkpoints on it read its totals per company,
# fiscal period and currency, which `status.prepare` computes once per evaluation.
ERP_JOURNAL_TOTALS = "erp_journal_totals"
SHARED = {
    ERP_JOURNAL_TOTALS: """select company_code, fiscal_year, fiscal_period, company_code_currency,
               count(*) as items, sum(greatest(amount_in_company_code_currency, 0)) as debits
           from ({}) as journal_items group by all""".format(
        latest_versions(
            "raw_erp.journal_items",
            ["company_code", "fiscal_year", "accounting_document", "ledger_gl_line_item"],
            JOURNAL_VERSIONS,
        )
    )
}

# dlt merges the payroll results on their key in the warehouse, and appends them in a lake
# (ingest/lake.py): read as their latest versions, the results are the register's in either
PAYROLL_RESULTS = latest_versions(
    "raw_payroll.payroll_results", ["payroll_result_id"], versions_order("last_updated")
)

PAYROLL_ACCOUNTS = "('600000', '601000', '602000')"
PRODUCT_REVENUE_ACCOUNTS = "('400000', '401000', '402000', '403000', '404000')"


@dataclass(frozen=True)
class Side:
    """One side of a checkpoint: `sql` returns entity, period, unit, value. A side over
    export files names them by `files` (a glob under the exports root, `{files}` in the
    SQL, the exports root as `{root}`): only the periods with a file are compared, and
    with no file the side is empty."""

    label: str
    sql: str
    files: str | None = None
    requires: str | None = None  # a file under the exports root without which it is empty


@dataclass(frozen=True)
class Checkpoint:
    name: str
    description: str
    left: Side
    right: Side
    owner_role: str
    blocking: bool
    grain: str = "entity, period, unit"
    tolerance_abs: Decimal = Decimal(0)
    tolerance_rel: Decimal = Decimal(0)
    stage: str = WAREHOUSE


CHECKPOINTS: tuple[Checkpoint, ...] = (
    # ---------------------------------------------------------------- source <-> raw
    Checkpoint(
        name="erp_trial_balance_source_vs_raw",
        description="The ERP's own trial balance (debits per company, period and currency)"
        " against the journal items loaded into raw_erp.",
        left=Side(
            "ERP TrialBalance endpoint",
            """select company_code, fiscal_year || '-P' || lpad(fiscal_period::varchar, 2, '0'),
                   company_code_currency, sum(debit_amount)
               from reconciliation.source_erp_trial_balance group by all""",
        ),
        right=Side(
            "raw_erp.journal_items (latest version of each key)",
            f"""select company_code, fiscal_year || '-P' || lpad(fiscal_period::varchar, 2, '0'),
                   company_code_currency, sum(debits)
               from {ERP_JOURNAL_TOTALS} group by all""",
        ),
        owner_role=INTEGRATION,
        blocking=True,
    ),
    Checkpoint(
        name="erp_journal_items_source_vs_raw",
        description="Journal entry items the ERP counts in its trial balance per company and"
        " period against the items loaded into raw_erp: none lost, none doubled.",
        left=Side(
            "ERP TrialBalance endpoint (item counts)",
            """select company_code, fiscal_year || '-P' || lpad(fiscal_period::varchar, 2, '0'),
                   'rows', sum(journal_entry_items)
               from reconciliation.source_erp_trial_balance group by all""",
        ),
        right=Side(
            "raw_erp.journal_items (latest version of each key)",
            f"""select company_code, fiscal_year || '-P' || lpad(fiscal_period::varchar, 2, '0'),
                   'rows', sum(items)
               from {ERP_JOURNAL_TOTALS} group by all""",
        ),
        owner_role=INTEGRATION,
        blocking=True,
    ),
    Checkpoint(
        name="payroll_register_source_vs_raw",
        description="The payroll register's cost totals (gross, employer taxes, benefits) per"
        " company and pay period against the payroll results loaded into raw_payroll.",
        left=Side(
            "Payroll register totals endpoint",
            f"""select company, {PERIOD_OF.format(date="pay_period_end")}, currency,
                   sum(gross_earnings + employer_taxes + benefits)
               from reconciliation.source_payroll_register group by all""",
        ),
        right=Side(
            "raw_payroll.payroll_results",
            f"""select company, {PERIOD_OF.format(date="pay_period_end")}, currency,
                   sum(gross_earnings + employer_taxes + benefits)
               from ({PAYROLL_RESULTS}) as payroll_results group by all""",
        ),
        owner_role=INTEGRATION,
        blocking=True,
    ),
    Checkpoint(
        name="payroll_results_source_vs_raw",
        description="Payroll results counted by the register against those loaded.",
        left=Side(
            "Payroll register totals endpoint",
            f"""select company, {PERIOD_OF.format(date="pay_period_end")}, 'rows', sum(results)
               from reconciliation.source_payroll_register group by all""",
        ),
        right=Side(
            "raw_payroll.payroll_results",
            f"""select company, {PERIOD_OF.format(date="pay_period_end")}, 'rows', count(*)
               from ({PAYROLL_RESULTS}) as payroll_results group by all""",
        ),
        owner_role=INTEGRATION,
        blocking=True,
    ),
    # ---------------------------------------------------------------- raw <-> staging <-> marts
    Checkpoint(
        name="erp_journal_lines_raw_vs_staging",
        description="ERP journal lines: every raw key once in staging, nothing lost or doubled.",
        left=Side(
            "raw_erp.journal_items (latest version of each key)",
            f"""select company_code, fiscal_year || '-P' || lpad(fiscal_period::varchar, 2, '0'),
                   'rows', sum(items)
               from {ERP_JOURNAL_TOTALS} group by all""",
        ),
        right=Side(
            "staging.stg_erp__journal_items",
            """select entity_code, fiscal_year || '-P' || lpad(fiscal_period::varchar, 2, '0'),
                   'rows', count(*)
               from staging.stg_erp__journal_items group by all""",
        ),
        owner_role=PLATFORM,
        blocking=True,
    ),
    Checkpoint(
        name="gl_lines_staging_vs_marts",
        description="GL lines of both ERPs: each enriched line is booked in the GL mart or"
        " refused to quarantine with a reason, once.",
        left=Side(
            "intermediate.int_gl_journal_lines",
            f"""select entity_code, {PERIOD_OF.format(date="posting_date")}, 'rows', count(*)
               from intermediate.int_gl_journal_lines group by all""",
        ),
        right=Side(
            "marts.fct_gl_journal_lines + quarantine",
            f"""select entity_code, {PERIOD_OF.format(date="posting_date")}, 'rows', count(*)
               from (
                   select entity_code, posting_date from marts.fct_gl_journal_lines
                   union all
                   select line.entity_code, line.posting_date
                   from quarantine.quarantine_gl_journal_lines as refused
                   inner join intermediate.int_gl_journal_lines as line
                       on refused.source_key = line.journal_line_key
               ) group by all""",
        ),
        owner_role=PLATFORM,
        blocking=True,
    ),
    # ---------------------------------------------------------------- sub-ledger <-> GL
    Checkpoint(
        name="payroll_register_vs_gl_payroll_expense",
        description="The payroll register (gross, employer taxes, benefits) per entity and"
        " period against the GL payroll expense (600000, 601000, 602000).",
        left=Side(
            "staging.stg_payroll__payroll_results",
            f"""select entity_code, {PERIOD_OF.format(date="pay_period_end_date")},
                   currency_functional, sum(gross_earnings_functional
                       + employer_taxes_functional + benefits_functional)
               from staging.stg_payroll__payroll_results group by all""",
        ),
        right=Side(
            "marts.fct_gl_journal_lines on 600000/601000/602000",
            f"""select entity_code, period_id, currency_functional, sum(amount_functional)
               from marts.fct_gl_journal_lines
               where account_code in {PAYROLL_ACCOUNTS} group by all""",
        ),
        owner_role=CONTROLLER,
        blocking=True,
    ),
    Checkpoint(
        name="crm_closed_won_vs_recognised_revenue",
        description="Closed-won opportunities per entity, close period and currency against"
        " the product revenue the GL recognised (within 0.5 %).",
        left=Side(
            "staging.stg_crm__opportunities (closed won)",
            f"""select entity_code, {PERIOD_OF.format(date="close_date")}, currency_txn,
                   sum(amount_txn)
               from staging.stg_crm__opportunities where is_won group by all""",
        ),
        right=Side(
            "marts.fct_gl_journal_lines on product revenue",
            f"""select entity_code, period_id, currency_txn, -sum(amount_txn)
               from marts.fct_gl_journal_lines
               where account_code in {PRODUCT_REVENUE_ACCOUNTS}
               group by all""",
        ),
        owner_role=CONTROLLER,
        blocking=False,
        tolerance_rel=Decimal("0.005"),
    ),
    # ---------------------------------------------------------------- intercompany
    Checkpoint(
        name="intercompany_legs_agree",
        description="The two legs of every intercompany pair cancel in transaction currency,"
        " balances and revenue/expense apart (entity is the pair and kind, e.g."
        " DE01~US01:revenue_and_expense).",
        left=Side(
            "leg of the pair's first entity",
            """select pair_code || ':' || elimination_type, period_id, currency_txn,
                   sum(amount_txn_a)
               from marts.intercompany_mismatches group by all""",
        ),
        right=Side(
            "leg of the pair's second entity, negated",
            """select pair_code || ':' || elimination_type, period_id, currency_txn,
                   -sum(amount_txn_b)
               from marts.intercompany_mismatches group by all""",
        ),
        owner_role=CONTROLLER,
        blocking=False,
    ),
    Checkpoint(
        name="eliminations_net_to_zero",
        description="The consolidation eliminations of every period sum to zero in group currency.",
        left=Side(
            "zero",
            """select distinct 'GROUP', period_id, currency_group, 0
               from marts.consolidation_eliminations""",
        ),
        right=Side(
            "marts.consolidation_eliminations",
            """select 'GROUP', period_id, currency_group, sum(amount_period_group)
               from marts.consolidation_eliminations group by all""",
        ),
        owner_role=CONTROLLER,
        blocking=True,
    ),
    # ---------------------------------------------------------------- close
    Checkpoint(
        name="restatements_flagged",
        description="Postings into a locked period (restatements) against those the controller"
        " flagged in the seed restatements: the difference is restated and not approved.",
        left=Side(
            "flagged restatements",
            """select entity_code, period_id, currency_functional,
                   sum(case when is_flagged then amount_functional else 0 end)
               from marts.restated_postings group by all""",
        ),
        right=Side(
            "marts.restated_postings",
            """select entity_code, period_id, currency_functional, sum(amount_functional)
               from marts.restated_postings group by all""",
        ),
        owner_role=CONTROLLER,
        blocking=True,
    ),
    # ---------------------------------------------------------------- exports <-> marts
    Checkpoint(
        name="fpa_actuals_file_vs_mart",
        description="Each FP&A actuals file's amount per entity and currency against the GL"
        " mart's P&L for its period.",
        left=Side(
            "marts.fct_gl_journal_lines (P&L)",
            """select line.entity_code, line.period_id, line.currency_functional,
                   sum(line.amount_functional)
               from marts.fct_gl_journal_lines as line
               inner join marts.dim_account as account using (account_code)
               where account.statement = 'PL' group by all""",
        ),
        right=Side(
            "exports/fpa/actuals/<period>.csv",
            """select "Entity", regexp_extract(filename, '(\\d{4}-P\\d{2})', 1),
                   "Currency", sum("Amount")
               from read_csv({files}, filename = true, header = true,
                             types = {'Amount': 'decimal(18,2)', 'Entity': 'varchar'})
               group by all""",
            files="fpa/actuals/*.csv",
        ),
        owner_role=PLATFORM,
        blocking=False,
        stage=EXPORTS,
    ),
    Checkpoint(
        name="fpa_files_match_manifest",
        description="Each file the FP&A manifest lists is on disk with the sha256 it was"
        " published with: a file changed after writing does not match.",
        left=Side(
            "exports/fpa/manifest.json",
            """select path, coalesce(period, 'all'), 'intact files', 1
               from (select unnest(files, recursive := true) from read_json({files}))""",
            files="fpa/manifest.json",
        ),
        right=Side(
            "exports/fpa/** (sha256 of each file)",
            """select listed.path, coalesce(listed.period, 'all'), 'intact files',
                   case when sha256(published.content) = listed.sha256 then 1 else 0 end
               from (select unnest(files, recursive := true)
                     from read_json('{root}/fpa/manifest.json')) as listed
               left join read_blob({files}) as published
                   on published.filename = '{root}/fpa/' || listed.path""",
            files="fpa/**/*.csv",
            requires="fpa/manifest.json",
        ),
        owner_role=PLATFORM,
        blocking=False,
        stage=EXPORTS,
    ),
    Checkpoint(
        name="reporting_trial_balance_file_vs_mart",
        description="Each trial balance Parquet file's absolute movements per entity and"
        " currency against marts.trial_balance for its period.",
        left=Side(
            "marts.trial_balance",
            """select entity_code, period_id, currency_functional, sum(abs(movement_functional))
               from marts.trial_balance group by all""",
        ),
        right=Side(
            "exports/reporting/trial_balance/<period>.parquet",
            """select entity_code, regexp_extract(filename, '(\\d{4}-P\\d{2})', 1),
                   currency_functional, sum(abs(movement_functional))
               from read_parquet({files}, filename = true, hive_partitioning = false)
               group by all""",
            files="reporting/trial_balance/**/*.parquet",
        ),
        owner_role=PLATFORM,
        blocking=False,
        stage=EXPORTS,
    ),
)


def of_stage(stage: str) -> tuple[Checkpoint, ...]:
    return tuple(c for c in CHECKPOINTS if c.stage == stage)


def by_name(name: str) -> Checkpoint:
    return next(c for c in CHECKPOINTS if c.name == name)
