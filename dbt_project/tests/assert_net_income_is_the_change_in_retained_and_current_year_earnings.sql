{{ config(meta={"dagster": {"ref": {"name": "balance_sheet"}}}) }}

-- A period's net income (income_statement) equals the change over the period
-- of retained earnings plus current-year earnings (balance_sheet), leaving out
-- what was posted to retained earnings directly (opening balances). This holds
-- across the fiscal-year start, where current-year earnings reset and retained
-- earnings take the year's result: in functional and in group currency.
with

income_statement as (

    select * from {{ ref('income_statement') }}

),

balance_sheet as (

    select * from {{ ref('balance_sheet') }}

),

trial_balance as (

    select * from {{ ref('trial_balance') }}

),

fiscal_periods as (

    select * from {{ ref('dim_fiscal_period') }}

),

net_income as (

    select
        entity_code,
        period_id,
        sum(amount_period_functional) as net_income_functional,
        sum(amount_period_group) as net_income_group
    from income_statement
    group by
        entity_code,
        period_id

),

earnings as (

    select
        balance_sheet.entity_code,
        balance_sheet.period_id,
        fiscal_periods.period_index,
        sum(balance_sheet.amount_functional) as earnings_functional,
        sum(balance_sheet.amount_group) as earnings_group
    from balance_sheet
    inner join fiscal_periods
        on balance_sheet.period_id = fiscal_periods.period_id
    where balance_sheet.statement_line_code in ('BS-E-RE', 'CURRENT_YEAR_EARNINGS')
    group by
        balance_sheet.entity_code,
        balance_sheet.period_id,
        fiscal_periods.period_index

),

direct_postings as (

    select
        entity_code,
        period_id,
        -movement_functional as posted_functional,
        -movement_group as posted_group
    from trial_balance
    where account_code = '{{ var("retained_earnings_account") }}'

),

changes as (

    select
        earnings.entity_code,
        earnings.period_id,
        earnings.earnings_functional - lag(earnings.earnings_functional, 1, 0) over (
            partition by earnings.entity_code order by earnings.period_index
        ) as change_functional,
        earnings.earnings_group - lag(earnings.earnings_group, 1, 0) over (
            partition by earnings.entity_code order by earnings.period_index
        ) as change_group
    from earnings

)

select
    changes.entity_code,
    changes.period_id,
    net_income.net_income_functional,
    changes.change_functional - coalesce(direct_postings.posted_functional, 0) as earned_functional,
    net_income.net_income_group,
    changes.change_group - coalesce(direct_postings.posted_group, 0) as earned_group
from changes
left join net_income
    on changes.entity_code = net_income.entity_code
        and changes.period_id = net_income.period_id
left join direct_postings
    on changes.entity_code = direct_postings.entity_code
        and changes.period_id = direct_postings.period_id
where coalesce(net_income.net_income_functional, 0)
    <> changes.change_functional - coalesce(direct_postings.posted_functional, 0)
    or coalesce(net_income.net_income_group, 0)
    <> changes.change_group - coalesce(direct_postings.posted_group, 0)
