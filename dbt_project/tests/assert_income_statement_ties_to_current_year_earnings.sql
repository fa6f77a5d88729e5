{{ config(meta={"dagster": {"ref": {"name": "income_statement"}}}) }}

-- The income statement's year-to-date lines add up, per entity and period, to
-- the current-year earnings the balance sheet shows in equity.
with

income_statement as (

    select
        entity_code,
        period_id,
        sum(amount_ytd_functional) as net_income_ytd
    from {{ ref('income_statement') }}
    group by
        entity_code,
        period_id

),

current_year_earnings as (

    select
        entity_code,
        period_id,
        amount_functional
    from {{ ref('balance_sheet') }}
    where statement_line_code = 'CURRENT_YEAR_EARNINGS'

)

select
    coalesce(income_statement.entity_code, current_year_earnings.entity_code) as entity_code,
    coalesce(income_statement.period_id, current_year_earnings.period_id) as period_id,
    income_statement.net_income_ytd,
    current_year_earnings.amount_functional as current_year_earnings
from income_statement
full outer join current_year_earnings
    on income_statement.entity_code = current_year_earnings.entity_code
        and income_statement.period_id = current_year_earnings.period_id
where income_statement.net_income_ytd is distinct from current_year_earnings.amount_functional
