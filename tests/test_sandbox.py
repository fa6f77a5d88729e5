"""The demo enterprise's books are right by construction: prove it on a small scale."""

from __future__ import annotations

import csv
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sandbox import regional, schemas
from sandbox.api.erp import ORDINARY_TYPES, ErpApi
from sandbox.calendar import HISTORY_END, HISTORY_START, PERIODS, add_business_days
from sandbox.fx import convert_exact
from sandbox.generate import generate
from sandbox.master import COMPANY_CODES

SCALE, SEED = 0.02, 7
SEEDS_DIR = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sandbox")
    generate(path, SCALE, SEED)
    return path


@pytest.fixture(scope="module")
def db(out: Path) -> duckdb.DuckDBPyConnection:
    """ERP journals, the regional drops mapped to group codes through the seeds, and
    the sub-ledgers, as DuckDB views."""
    con = duckdb.connect()
    con.execute(
        f"create view gl as select * from read_parquet('{out}/erp/journal_items/*.parquet')"
    )
    drops = pa.concat_tables(
        regional.read_csv(p, schemas.REGIONAL_JOURNAL_LINES)
        for p in sorted((out / "regional_erp/drops").glob("*.csv"))
    )
    con.register("drops", drops)
    for name in ("map_regional_accounts", "map_regional_cost_centers", "map_regional_companies"):
        seed = SEEDS_DIR / f"{name}.csv"
        con.execute(f"create table {name} as select * from read_csv('{seed}', all_varchar=true)")
    con.execute("""
        create view regional_gl as
        select c.group_company_code as company, d.numero_lancamento as doc, d.tipo,
               d.data_lancamento as posting_date, a.group_account_code as account,
               k.group_cost_center_code as cost_center, d.parceiro as partner, d.moeda as currency,
               d.valor_moeda as amount_txn, d.debito_brl - d.credito_brl as amount_cc,
               d.estorno_de as reversal_of, d.historico
        from drops d
        join map_regional_companies c on c.local_company_code = d.empresa
        join map_regional_accounts a on a.local_account_code = d.conta
        left join map_regional_cost_centers k on k.local_cost_center_code = d.centro_custo
    """)
    for rel, name in (
        ("payroll/payroll_results.parquet", "payroll"),
        ("crm/opportunities.parquet", "opps"),
        ("erp/fx_rates.parquet", "fx"),
        ("erp/gl_accounts.parquet", "accounts"),
        ("erp/financial_statement_items.parquet", "items"),
        ("fpa/plan_lines.parquet", "plan"),
    ):
        con.execute(f"create view {name} as select * from read_parquet('{out / rel}')")
    return con


def one(db: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    return db.execute(sql).fetchone()


# ---------------------------------------------------------------- balance
def test_every_erp_document_balances_per_transaction_and_company_code_currency(db):
    docs, off_txn, off_cc = one(
        db,
        """
        select count(*), count(*) filter (where txn <> 0), count(*) filter (where cc <> 0) from (
            select CompanyCode, FiscalYear, AccountingDocument,
                   sum(AmountInTransactionCurrency) txn, sum(AmountInCompanyCodeCurrency) cc
            from gl group by all)
    """,
    )
    assert docs > 2_000
    assert (off_txn, off_cc) == (0, 0)
    assert one(db, "select count(distinct TransactionCurrency) from gl")[0] == 4  # BRL is regional


def test_every_regional_document_balances_in_brl_and_transaction_currency(db):
    docs, off_txn, off_cc = one(
        db,
        """
        select count(*), count(*) filter (where txn <> 0), count(*) filter (where cc <> 0) from (
            select doc, sum(amount_txn) txn, sum(amount_cc) cc from regional_gl group by doc)
    """,
    )
    assert docs > 300
    assert (off_txn, off_cc) == (0, 0)
    assert one(db, "select count(*) from drops where debito_brl <> 0 and credito_brl <> 0")[0] == 0


def test_jpy_amounts_are_whole_yen(db):
    fractional = one(
        db,
        """
        select count(*) filter (where TransactionCurrency = 'JPY'
                                  and AmountInTransactionCurrency % 1 <> 0)
             + count(*) filter (where CompanyCodeCurrency = 'JPY'
                                  and AmountInCompanyCodeCurrency % 1 <> 0)
        from gl
    """,
    )[0]
    assert fractional == 0
    assert one(db, "select count(*) from gl where CompanyCodeCurrency = 'JPY'")[0] > 1_000


def test_foreign_lines_convert_at_exactly_the_published_rate(db):
    """Every converted line but a document's last (which absorbs rounding)."""
    rows = db.execute("""
        with lines as (
            select *, LedgerGLLineItem = max(LedgerGLLineItem) over (
                partition by CompanyCode, FiscalYear, AccountingDocument) as is_last
            from gl where AccountingDocumentType in ('RV', 'KR', 'IC')
              and TransactionCurrency <> CompanyCodeCurrency)
        select l.AmountInTransactionCurrency, f.ExchangeRate, l.AmountInCompanyCodeCurrency,
               l.CompanyCodeCurrency
        from lines l join fx f on f.FromCurrency = l.TransactionCurrency
         and f.ToCurrency = l.CompanyCodeCurrency and f.ValidFrom = l.PostingDate
        where not is_last
    """).fetchall()
    assert len(rows) > 200
    wrong = 0
    for txn, rate, cc, cur in rows:
        step = Decimal(1) if cur == "JPY" else Decimal("0.01")
        wrong += (txn * rate).quantize(step, rounding=ROUND_HALF_UP) != cc
    assert wrong == 0


def test_integer_conversion_matches_decimal_arithmetic():
    rng = np.random.default_rng(1)
    amount = rng.integers(-(10**13), 10**13, 20_000)
    rate = rng.integers(1, 3 * 10**10, 20_000)
    unit = rng.choice([1, 100], 20_000)
    got = convert_exact(amount, rate, unit)
    for a, q, u, g in zip(amount.tolist(), rate.tolist(), unit.tolist(), got.tolist(), strict=True):
        exact = (Decimal(a) * q / Decimal(10**8) / u).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        assert int(exact) * u == g


# ---------------------------------------------------------------- master data
def test_chart_has_150_accounts_each_under_a_statement_item(db):
    n, orphans = one(
        db,
        """
        select count(*), count(*) filter (where i.FinancialStatementItem is null)
        from accounts a left join items i using (FinancialStatementItem)
    """,
    )
    assert n >= 150 and orphans == 0
    sections = {r[0] for r in db.execute("select distinct Section from items").fetchall()}
    assert sections == {"Assets", "Liabilities", "Equity", "Revenue", "COGS",
                        "Operating expenses", "Other income and expense", "Income tax"}  # fmt: skip
    fixed = {
        "300000": "Share capital", "330000": "Retained earnings",
        "340000": "Cumulative translation adjustment", "110000": "Trade receivables",
        "115000": "Intercompany receivables", "200000": "Trade payables",
        "205000": "Intercompany payables", "600000": "Salaries and wages",
        "601000": "Employer payroll taxes", "602000": "Employee benefits",
        "480000": "Intercompany management fee revenue",
        "680000": "Intercompany management fee expense",
    }  # fmt: skip
    names = dict(db.execute("select GLAccount, GLAccountName from accounts").fetchall())
    assert {k: names[k] for k in fixed} == fixed
    ic = {
        r[0] for r in db.execute("select GLAccount from accounts where IsIntercompany").fetchall()
    }
    assert {"115000", "205000", "480000", "680000"} <= ic
    # normal balance by number range: 1, 5, 6, 8 debit; 2, 3, 4 credit
    wrong = one(
        db,
        """
        select count(*) from accounts a join items i using (FinancialStatementItem)
        where (left(GLAccount, 1) in ('1', '5', '6', '8') and NormalBalance <> 'D')
           or (left(GLAccount, 1) in ('2', '3', '4') and NormalBalance <> 'C')
    """,
    )[0]
    assert wrong == 0
    revenue_lines = one(
        db, "select count(*) from accounts where GLAccount between '400000' and '409999'"
    )
    assert revenue_lines[0] == 5


def test_group_has_seven_companies_and_five_functional_currencies(out):
    companies = pq.read_table(out / "erp/company_codes.parquet").to_pylist()
    assert [c["CompanyCode"] for c in companies] == list(COMPANY_CODES)
    assert len({c["Currency"] for c in companies}) == 5
    assert [c["CompanyCode"] for c in companies if c["AccountingSystem"] == "REGIONAL"] == ["BR01"]
    assert sum(c["ConsolidationParent"] is None for c in companies) == 1


def test_fx_has_every_ordered_pair_every_calendar_day(db):
    pairs, days, rows, first, last = one(
        db,
        """
        select count(distinct FromCurrency || ToCurrency), count(distinct ValidFrom), count(*),
               min(ValidFrom), max(ValidFrom) from fx where ExchangeRateType = 'M'
    """,
    )
    span = (PERIODS[-1].end - PERIODS[0].start) + 1
    assert pairs == 20 and days >= span and rows == 20 * days
    assert first.toordinal() < HISTORY_START + 719163 and last.toordinal() > HISTORY_END + 719163
    worst = one(
        db,
        """
        select max(abs(a.ExchangeRate * b.ExchangeRate - 1)) from fx a join fx b
          on a.FromCurrency = b.ToCurrency and a.ToCurrency = b.FromCurrency
         and a.ValidFrom = b.ValidFrom
    """,
    )[0]
    assert worst < Decimal("0.000002")
    usd_jpy = one(
        db, "select avg(ExchangeRate) from fx where FromCurrency='USD' and ToCurrency='JPY'"
    )[0]
    assert 120 < usd_jpy < 180


# ---------------------------------------------------------------- sub-ledger ties
def test_payroll_ties_to_gl_per_company_period_and_cost_center(db):
    n, mismatches = one(
        db,
        """
        with sub as (
            select Company as company, date_trunc('month', Pay_Period_End) as month,
                   Cost_Center as cost_center, sum(Gross_Earnings) as gross,
                   sum(Employer_Taxes) as taxes, sum(Benefits) as benefits
            from payroll group by all),
        lines as (
            select CompanyCode as company, PostingDate as d, CostCenter as cost_center,
                   GLAccount as account, AmountInCompanyCodeCurrency as amount from gl
            union all
            select company, posting_date, cost_center, account, amount_cc from regional_gl),
        ledger as (
            select company, date_trunc('month', d) as month, cost_center,
                   sum(amount) filter (where account = '600000') as gross,
                   sum(amount) filter (where account = '601000') as taxes,
                   sum(amount) filter (where account = '602000') as benefits
            from lines where account in ('600000', '601000', '602000') group by all)
        select count(*), count(*) filter (where s.gross is distinct from l.gross
            or s.taxes is distinct from l.taxes or s.benefits is distinct from l.benefits)
        from sub s full join ledger l using (company, month, cost_center)
    """,
    )
    assert n == 75 * 24
    assert mismatches == 0


def test_closed_won_ties_to_product_revenue(db):
    n, foreign, mismatches = one(
        db,
        """
        with won as (
            select Legal_Entity__c as company, date_trunc('month', CloseDate) as month,
                   CurrencyIsoCode as currency, sum(Amount) as amount
            from opps where IsWon group by all),
        revenue as (
            select company, date_trunc('month', d) as month, currency, -sum(amount) as amount from (
                select CompanyCode as company, PostingDate as d, TransactionCurrency as currency,
                       GLAccount as account, AmountInTransactionCurrency as amount from gl
                union all
                select company, posting_date, currency, account, amount_txn from regional_gl)
            where account between '400000' and '409999' group by all)
        select count(*), count(*) filter (where w.currency not in ('USD') and w.company like 'US%'),
               count(*) filter (where w.amount is distinct from r.amount)
        from won w full join revenue r using (company, month, currency)
    """,
    )
    assert n >= 7 * 24 and foreign > 0
    assert mismatches == 0


def test_revenue_is_millions_a_month_in_functional_currency(db):
    rows = dict(
        db.execute("""
        select CompanyCode, -sum(AmountInCompanyCodeCurrency) / 24 from gl
        where GLAccount between '400000' and '409999' group by all
    """).fetchall()
    )
    assert all(1e6 < rows[c] < 5e7 for c in ("US01", "US02", "DE01", "FR01", "GB01"))
    assert 1e8 < rows["JP01"] < 5e9


def test_accrual_reversals_negate_their_accruals(db):
    """Reversals post on the next period's first business day and net to zero."""
    reversals, unmatched, residue = one(
        db,
        """
        with sa as (
            select CompanyCode as company, AccountingDocument as doc, PostingDate as d,
                   ReversalReferenceDocument as reversal_of, GLAccount as account,
                   coalesce(CostCenter, '') as cc, AmountInCompanyCodeCurrency as amount
            from gl where AccountingDocumentType = 'SA'
            union all
            select company, doc, posting_date, reversal_of, account, coalesce(cost_center, ''),
                   amount_cc from regional_gl where tipo = 'PRV'),
        by_key as (
            select company, doc, d, reversal_of, account, cc, sum(amount) as amount
            from sa group by all),
        pairs as (
            select r.company, r.doc, r.account, r.cc, r.amount, o.amount as original
            from by_key r left join by_key o on o.company = r.company and o.doc = r.reversal_of
              and o.reversal_of is null and o.account = r.account and o.cc = r.cc
              and date_trunc('month', o.d) = date_trunc('month', r.d) - interval 1 month
            where r.reversal_of is not null)
        select count(distinct company || doc), count(*) filter (where original is null),
               count(*) filter (where amount + original <> 0) from pairs
    """,
    )
    accruals_before_last = one(
        db,
        f"""
        select count(distinct CompanyCode || AccountingDocument) from gl
        where AccountingDocumentType = 'SA' and ReversalReferenceDocument is null
          and PostingDate < '{np.datetime64(PERIODS[-1].start, "D")}'
    """,
    )[0]
    assert reversals > accruals_before_last > 100
    assert (unmatched, residue) == (0, 0)


def test_intercompany_fee_legs_pair_up(db):
    pairs, unmatched = one(
        db,
        """
        with parent as (
            select ReferenceDocument as ref, PartnerCompany as partner,
                   date_trunc('month', PostingDate) as month,
                   sum(AmountInTransactionCurrency) filter (where GLAccount = '115000')
                       as receivable
            from gl where AccountingDocumentType = 'IC' and CompanyCode = 'US01' group by all),
        legs as (
            select ReferenceDocument as ref, CompanyCode as company, min(PartnerCompany) as partner,
                   date_trunc('month', PostingDate) as month,
                   -sum(AmountInTransactionCurrency) filter (where GLAccount = '205000') as payable
            from gl where AccountingDocumentType = 'IC' and CompanyCode <> 'US01' group by all
            union all
            select 'ICMF-' || strftime(posting_date, '%Y-%m') || '-BR01', company, min(partner),
                   date_trunc('month', posting_date),
                   -sum(amount_txn) filter (where account = '205000')
            from regional_gl where tipo = 'ICO' group by all)
        select count(*), count(*) filter (where l.company is distinct from p.partner
            or l.partner <> 'US01' or p.receivable <> l.payable or p.month <> l.month)
        from parent p full join legs l using (ref)
    """,
    )
    assert pairs == 6 * 24 and unmatched == 0
    no_partner = one(
        db, "select count(*) from gl where AccountingDocumentType = 'IC' and PartnerCompany is null"
    )
    assert no_partner[0] == 0


def test_every_company_posts_every_journal_type_every_period(db):
    expected = {"RV", "WL", "DZ", "KR", "KZ", "PR", "SA", "AF", "IC", "TX"}
    rows = db.execute("""
        select CompanyCode, date_trunc('month', PostingDate) as month,
               list(distinct AccountingDocumentType)
        from gl group by all
        union all
        select company, date_trunc('month', posting_date), list(distinct tipo)
        from regional_gl group by all
    """).fetchall()
    local = {v: k for k, v in regional.LOCAL_DOC_TYPE.items()}
    assert len(rows) == 7 * 24
    for company, _, types in rows:
        found = {local.get(t, t) for t in types}
        assert expected <= found, company


def test_at_least_three_workers_per_cost_center_every_period(db):
    thinnest = one(
        db,
        """
        select min(n) from (
            select Cost_Center, Pay_Period_End, count(*) n from payroll group by all)
    """,
    )[0]
    assert thinnest >= 3


def test_plan_versions_and_forecast_actual_months(out, db):
    versions = [
        json.loads(line) for line in (out / "fpa/plan_versions.jsonl").read_text().splitlines()
    ]
    assert [(v["Version"], v["Status"]) for v in versions] == [
        ("BUD_FY2025", "Approved"), ("BUD_FY2026", "Approved"),
        ("FC1_FY2026", "Approved"), ("FC2_FY2026", "Submitted"),
    ]  # fmt: skip
    months = dict(
        db.execute("select Version, count(distinct Month) from plan group by all").fetchall()
    )
    assert months == {"BUD_FY2025": 12, "BUD_FY2026": 12, "FC1_FY2026": 12, "FC2_FY2026": 12}
    # FC1 (3+9): Apr-Jun 25 equal the ERP actuals exactly
    diff = one(
        db,
        """
        with a as (select CompanyCode e, GLAccount acc, CostCenter cc,
                          strftime(PostingDate, '%b %y') m,
                          sum(AmountInCompanyCodeCurrency) amt from gl
                   where GLAccount >= '4' and FiscalYear = 2026 and FiscalPeriod <= 3 group by all
                   having sum(AmountInCompanyCodeCurrency) <> 0),
             -- a line without cost center may use the planning list's NONE member
             p as (select Entity e, Account acc, nullif(Cost_Center, 'NONE') cc, Month m,
                          Amount amt from plan
                   where Version = 'FC1_FY2026' and Month in ('Apr 25', 'May 25', 'Jun 25')
                     and Entity <> 'BR01')
        select count(*) filter (where a.amt is distinct from p.amt), count(*)
        from a full join p on a.e = p.e and a.acc = p.acc and a.cc is not distinct from p.cc
         and a.m = p.m
    """,
    )
    assert diff[0] == 0 and diff[1] > 100


# ---------------------------------------------------------------- seeds, manifest, determinism
def _seed_rows(name: str) -> list[tuple[str, ...]]:
    with (SEEDS_DIR / f"{name}.csv").open(encoding="utf-8") as f:
        return [tuple(r) for r in list(csv.reader(f))[1:]]


def test_seeds_cover_exactly_the_regional_mapping(db):
    assert _seed_rows("map_regional_accounts") == regional.account_mapping()
    assert _seed_rows("map_regional_cost_centers") == [
        (a, c) for a, _, c in regional.cost_center_mapping()
    ]
    assert _seed_rows("map_regional_companies") == regional.company_mapping()
    unmapped = one(
        db,
        """
        select count(*) from drops d
        left join map_regional_accounts a on a.local_account_code = d.conta
        left join map_regional_cost_centers c on c.local_cost_center_code = d.centro_custo
        where a.group_account_code is null
           or (d.centro_custo is not null and c.group_cost_center_code is null)
    """,
    )[0]
    assert unmapped == 0
    assert len(regional.account_mapping()) >= 70


def _count_rows(path: Path) -> int:
    if path.suffix == ".parquet":
        return pq.ParquetFile(path).metadata.num_rows
    lines = path.read_text(encoding="utf-8").splitlines()
    return len(lines) - (1 if path.suffix == ".csv" else 0)


def test_manifest_counts_and_control_totals_match_the_files(out, db):
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["seed"], manifest["scale"]) == (SEED, SCALE)
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {
        "manifest.json"
    }
    assert set(manifest["files"]) == on_disk
    for rel, entry in manifest["files"].items():
        assert entry["rows"] == _count_rows(out / rel), rel
    totals = db.execute("""
        select FiscalYear, FiscalPeriod, CompanyCode, count(*),
               sum(greatest(AmountInCompanyCodeCurrency, 0)) from gl group by all
    """).fetchall()
    assert len(totals) == 6 * 24
    for fy, fp, company, rows, debit in totals:
        entry = manifest["files"][f"erp/journal_items/{fy}-{fp:03d}.parquet"]["control_totals"][
            company
        ]
        assert (entry["rows"], Decimal(entry["debit_company_code_currency"])) == (rows, debit)
    lines = manifest["journal_lines"]
    assert 15_000 < lines["erp"] + lines["regional_erp"] < 40_000
    assert 0.08 < lines["regional_erp"] / (lines["erp"] + lines["regional_erp"]) < 0.2


def test_same_seed_and_scale_give_byte_identical_files(out, tmp_path):
    generate(tmp_path, SCALE, SEED)
    first = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert first.keys() == second.keys() and len(first) == 65
    assert [k for k in first if first[k] != second[k]] == []


def test_jsonl_has_one_object_per_line_with_iso_dates(out):
    lines = (out / "payroll/workers.jsonl").read_text().splitlines()
    workers = [json.loads(line) for line in lines]
    assert len(workers) >= 75 * 3
    assert all(len(w["Hire_Date"]) == 10 and w["Last_Updated"].endswith("Z") for w in workers)
    assert all(
        w["Termination_Date"] is None or w["Termination_Date"] > w["Hire_Date"] for w in workers
    )


def test_a_business_day_in_the_erp_posts_an_average_days_own_business(out):
    """The simulator's business day brings what the bench's incremental run stands for:
    about as many new lines as the history's average posting day, in balanced documents
    under new numbers, of the types only the ERP records, so that the payroll and the
    revenue the other systems tie to stay as they were."""
    erp = ErpApi(out)
    journals = erp.tables["JournalEntryItems"]
    con = duckdb.connect()
    con.register("before", journals.data)
    today = int(np.datetime64(erp.today, "D").astype(np.int64))
    erp.advance(int(add_business_days(np.array([today + 1]), 0)[0]))
    con.register("after", journals.data)
    key = "CompanyCode, FiscalYear, AccountingDocument, LedgerGLLineItem"
    con.execute(f"create table new as select * from after anti join before using ({key})")
    assert con.execute(f"select count(*) - count(distinct ({key})) from after").fetchall() == [(0,)]
    unbalanced = con.execute(
        "select AccountingDocument from new group by CompanyCode, AccountingDocument"
        " having sum(AmountInCompanyCodeCurrency) <> 0"
    ).fetchall()
    assert unbalanced == []
    # the day's business, beside its close adjustments and a reversal
    ordinary = con.execute(
        "select AccountingDocumentType, count(*) from new where DocumentItemText <> 'Close"
        " adjustment' and ReversalReferenceDocument is null group by all"
    ).fetchall()
    assert {kind for kind, _ in ordinary} <= set(ORDINARY_TYPES)
    lines = sum(count for _, count in ordinary)
    assert erp.lines_per_day / 2 <= lines <= erp.lines_per_day * 3 / 2
    tied = (
        "select CompanyCode, FiscalYear, FiscalPeriod, AccountingDocumentType,"
        " sum(AmountInCompanyCodeCurrency) from {} where AccountingDocumentType in"
        " ('PR', 'RV') group by all order by all"
    )
    assert (
        con.execute(tied.format("after")).fetchall()
        == con.execute(tied.format("before")).fetchall()
    )
