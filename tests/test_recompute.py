"""An independent recomputation of the consolidated statements, from the extracts.

Plain SQL over the files the source systems dropped (the group ERP's Parquet, the
regional ERP's CSV drops, the FX rates) and the analysts' mapping seeds: nothing is
read from the warehouse except the marts being checked. The rules are the ones the
finance team states, written again from scratch:

- a period is a calendar month; the fiscal year starts in April and is named after the
  year it ends in;
- P&L is translated per entity, account, trading partner and period at the period's
  average rate (mean of the daily rates of its calendar days), rounded to the cent;
  assets and liabilities at the period-end rate; equity at the posting date's rate;
  retained earnings take the prior fiscal year's translated result; the cumulative
  translation adjustment (CTA) is what balances each translated entity;
- intercompany accounts with a group partner are eliminated: what their legs do not
  cancel lands in the FX result (P&L) or the CTA (balances).
"""

from decimal import Decimal
from pathlib import Path

import duckdb

from orchestration.paths import DBT_PROJECT_DIR, Paths
from tests.conftest import query

PERIODS = 24

RECOMPUTE = """
create temp table accounts as
select a.GLAccount as account, a.IsIntercompany as is_ic,
       f.FinancialStatementItem as line, f.Statement as statement, f.Section as section
from read_parquet('{erp}/gl_accounts.parquet') a
join read_parquet('{erp}/financial_statement_items.parquet') f using (FinancialStatementItem);

create temp table companies as
select CompanyCode as entity, Currency as currency from read_parquet('{erp}/company_codes.parquet');

create temp table lines as
select CompanyCode as entity, GLAccount as account, coalesce(PartnerCompany, '') as partner,
       PostingDate as posting_date, CompanyCodeCurrency as currency,
       AmountInCompanyCodeCurrency as amount
from read_parquet('{erp}/journal_items/*.parquet')
union all
select c.group_company_code, a.group_account_code, coalesce(r.parceiro, ''),
       r.data_lancamento, co.currency, r.debito_brl - r.credito_brl
from read_csv('{regional}/drops/*.csv', delim=';', header=true, decimal_separator=',',
              dateformat='%d/%m/%Y',
              types={{'debito_brl': 'decimal(18,2)', 'credito_brl': 'decimal(18,2)',
                      'data_lancamento': 'date', 'conta': 'varchar', 'parceiro': 'varchar'}}) r
join read_csv('{seeds}/map_regional_accounts.csv', all_varchar=true) a
    on r.conta = a.local_account_code
join read_csv('{seeds}/map_regional_companies.csv', all_varchar=true) c
    on r.empresa = c.local_company_code
join companies co on co.entity = c.group_company_code;

create temp table daily as
select FromCurrency as currency, ValidFrom as day, ExchangeRate as rate
from read_parquet('{erp}/fx_rates.parquet')
where ExchangeRateType = 'M' and ToCurrency = 'USD'
union all
select 'USD', day::date, 1 from range(date '2020-01-01', date '2030-01-01', interval 1 day) t(day);

create temp table periods as
select distinct
    date_trunc('month', posting_date)::date as month_start,
    year(posting_date) + (month(posting_date) >= 4)::int as fiscal_year,
    (month(posting_date) + 8) % 12 + 1 as fiscal_period
from lines;
alter table periods add column period_id varchar;
update periods set period_id = fiscal_year || '-P' || lpad(fiscal_period::varchar, 2, '0');

create temp table rates as
select d.currency, p.period_id,
       cast(sum(d.rate) / count(*) as decimal(38, 12)) as average_rate,
       max(d.rate) filter (where d.day = last_day(p.month_start)) as closing_rate
from daily d join periods p on date_trunc('month', d.day) = p.month_start
group by d.currency, p.period_id, p.month_start;

create temp table movements as
select l.entity, l.account, l.partner, p.period_id, p.fiscal_year, p.fiscal_period,
       sum(l.amount) as amount,
       sum(round(l.amount * d.rate, 2)) as historical
from lines l
join periods p on date_trunc('month', l.posting_date) = p.month_start
join daily d on d.currency = l.currency and d.day = l.posting_date
group by all;

create temp table keyed as
select k.entity, k.account, k.partner, p.period_id, p.fiscal_year, p.fiscal_period,
       coalesce(m.amount, 0) as amount, coalesce(m.historical, 0) as historical,
       round(coalesce(m.amount, 0) * r.average_rate, 2) as at_average,
       r.closing_rate, a.statement, a.section, a.line, a.is_ic,
       k.partner in (select entity from companies) as eliminated
from (select distinct entity, account, partner from movements) k
cross join periods p
join companies c on c.entity = k.entity
join rates r on r.currency = c.currency and r.period_id = p.period_id
join accounts a on a.account = k.account
left join movements m
    on m.entity = k.entity and m.account = k.account and m.partner = k.partner
    and m.period_id = p.period_id;

-- P&L per line, with eliminated intercompany P&L moved to the FX result line
create temp table pl as
select period_id, fiscal_year, fiscal_period,
       case when is_ic and eliminated then 'PL-OIE-FX' else line end as line,
       entity, at_average
from keyed where statement = 'PL';

create temp table expected_income_statement as
select period_id, line, -sum(at_average) as amount_period,
       -sum(sum(at_average)) over (partition by line, fiscal_year order by fiscal_period)
           as amount_ytd
from pl group by period_id, fiscal_year, fiscal_period, line;

-- balances: cumulative functional balance of each key; retained earnings take the
-- prior fiscal year's result
create temp table prior_year_result as
select entity, fiscal_year + 1 as fiscal_year, sum(amount) as amount, sum(at_average) as translated
from keyed where statement = 'PL' group by all;

create temp table bs as
select k.entity, k.period_id, k.fiscal_year, k.fiscal_period,
       case when k.is_ic and k.eliminated then 'BS-E-CTA' else k.line end as line,
       k.section,
       sum(k.amount) over w as closing,
       sum(k.historical) over w as historical,
       k.closing_rate
from keyed k where k.statement = 'BS'
window w as (partition by k.entity, k.account, k.partner order by k.fiscal_year, k.fiscal_period);

create temp table retained_carryforward as
select e.entity, p.period_id,
       sum(y.amount) as amount, sum(y.translated) as translated
from (select distinct entity from keyed) e
cross join periods p
join prior_year_result y on y.entity = e.entity and y.fiscal_year <= p.fiscal_year
group by all;

create temp table translated as
select entity, period_id, line,
       case when section = 'Equity' then historical else round(closing * closing_rate, 2) end
           as balance
from bs
union all
select entity, period_id, 'BS-E-RE', translated from retained_carryforward
union all
select entity, period_id, 'CURRENT_YEAR_EARNINGS',
       sum(sum(at_average)) over (partition by entity, fiscal_year order by fiscal_period)
from keyed where statement = 'PL' group by entity, period_id, fiscal_year, fiscal_period;

create temp table with_cta as
select entity, period_id, line, balance from translated
union all
select entity, period_id, 'BS-E-CTA', -sum(balance) from translated group by all;

create temp table expected_balance_sheet as
select period_id, line,
       case when line like 'BS-A-%' then sum(balance) else -sum(balance) end as amount
from with_cta group by period_id, line;
"""


def recompute(paths: Paths) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        RECOMPUTE.format(
            erp=paths.extracts / "erp",
            regional=paths.extracts / "regional_erp",
            seeds=Path(DBT_PROJECT_DIR) / "seeds",
        )
    )
    return con


def differences(expected: list[tuple], actual: list[tuple]) -> dict[tuple, tuple]:
    """(period, line) keys whose amounts differ, a missing key counting as zero."""
    want = {(period, line): amount for period, line, amount in expected}
    have = {(period, line): amount for period, line, amount in actual}
    zero = Decimal(0)
    return {
        key: (want.get(key, zero), have.get(key, zero))
        for key in want.keys() | have.keys()
        if want.get(key, zero) != have.get(key, zero)
    }


def test_consolidated_income_statement_agrees_with_a_recomputation(paths: Paths, main_run) -> None:
    con = recompute(paths)
    expected_period = con.execute(
        "select period_id, line, amount_period from expected_income_statement"
    ).fetchall()
    expected_ytd = con.execute(
        "select period_id, line, amount_ytd from expected_income_statement"
    ).fetchall()
    mart = "select period_id, statement_line_code, {} from marts.consolidated_income_statement"
    assert len({period for period, _, _ in expected_period}) == PERIODS
    assert differences(expected_period, query(paths, mart.format("amount_period_group"))) == {}
    assert differences(expected_ytd, query(paths, mart.format("amount_ytd_group"))) == {}
    revenue = sum(a for _, line, a in expected_ytd if line == "PL-REV-PROD")
    assert revenue > 0  # zero is not emptiness


def test_consolidated_balance_sheet_agrees_with_a_recomputation(paths: Paths, main_run) -> None:
    con = recompute(paths)
    expected = con.execute("select period_id, line, amount from expected_balance_sheet").fetchall()
    actual = query(
        paths,
        "select period_id, statement_line_code, amount_group from marts.consolidated_balance_sheet",
    )
    assert len({period for period, _, _ in expected}) == PERIODS
    assert differences(expected, actual) == {}
    cta = [a for _, line, a in expected if line == "BS-E-CTA"]
    assert any(a != 0 for a in cta)  # foreign entities translate with a difference
    intercompany = [a for _, line, a in actual if line in ("BS-A-ICAR", "BS-L-ICAP")]
    assert set(intercompany) <= {Decimal(0)}  # eliminated
