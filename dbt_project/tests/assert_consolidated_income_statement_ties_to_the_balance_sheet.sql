{{ config(meta={"dagster": {"ref": {"name": "consolidated_income_statement"}}}) }}

-- The group's year-to-date net income (consolidated_income_statement) is the
-- current-year earnings of the consolidated balance sheet, in every period.
with

income_statement as (

    select
        period_id,
        sum(amount_ytd_group) as net_income_ytd_group
    from {{ ref('consolidated_income_statement') }}
    group by period_id

),

balance_sheet as (

    select
        period_id,
        amount_group
    from {{ ref('consolidated_balance_sheet') }}
    where statement_line_code = 'CURRENT_YEAR_EARNINGS'

)

select
    coalesce(income_statement.period_id, balance_sheet.period_id) as period_id,
    income_statement.net_income_ytd_group,
    balance_sheet.amount_group as current_year_earnings_group
from income_statement
full outer join balance_sheet
    on income_statement.period_id = balance_sheet.period_id
where income_statement.net_income_ytd_group is distinct from balance_sheet.amount_group
