-- One row per fiscal period and balance sheet line of the group: the legal
-- entities' translated balance sheets (assets and liabilities at closing rates,
-- equity at historical rates, each entity's CTA) plus the elimination of
-- intercompany balances, whose translation difference joins the CTA. The
-- group's year-to-date result is the equity line CURRENT_YEAR_EARNINGS. Assets
-- debit-positive, liabilities and equity credit-positive: total assets equal
-- total liabilities and equity.
with

trial_balance as (

    select * from {{ ref('trial_balance') }}

),

eliminations as (

    select * from {{ ref('consolidation_eliminations') }}

),

accounts as (

    select * from {{ ref('int_account_lines_by_period') }}

),

fiscal_periods as (

    select * from {{ ref('dim_fiscal_period') }}

),

equity_sort_order as (

    select max(statement_line_sort_order) + 1 as statement_line_sort_order
    from accounts
    where section = 'Equity'

),

unioned as (

    select
        account_code,
        period_id,
        closing_group as entities_group,
        0 as eliminations_group
    from trial_balance

    union all

    select
        account_code,
        period_id,
        0 as entities_group,
        amount_closing_group as eliminations_group
    from eliminations

),

with_lines as (

    select
        unioned.period_id,
        case when accounts.statement = 'PL' then 'CURRENT_YEAR_EARNINGS' else accounts.statement_line_code end
            as statement_line_code,
        case when accounts.statement = 'PL' then 'Equity' else accounts.section end as section,
        case when accounts.statement = 'PL' then 'Current-year earnings' else accounts.statement_line_name end
            as statement_line_name,
        case
            when accounts.statement = 'PL' then equity_sort_order.statement_line_sort_order
            else accounts.statement_line_sort_order
        end as statement_line_sort_order,
        unioned.entities_group,
        unioned.eliminations_group
    from unioned
    inner join accounts
        on unioned.account_code = accounts.account_code
            and unioned.period_id = accounts.period_id
    cross join equity_sort_order

),

by_line as (

    select
        period_id,
        statement_line_code,
        section,
        statement_line_name,
        statement_line_sort_order,
        sum(entities_group) as entities_group,
        sum(eliminations_group) as eliminations_group
    from with_lines
    group by
        period_id,
        statement_line_code,
        section,
        statement_line_name,
        statement_line_sort_order

),

final as (

    select

        ---------- ids
        by_line.period_id,
        by_line.statement_line_code,

        ---------- fiscal calendar
        fiscal_periods.fiscal_year,
        fiscal_periods.fiscal_period,

        ---------- statement line
        by_line.section,
        by_line.statement_line_name,
        by_line.statement_line_sort_order,

        ---------- group currency, debit-positive
        '{{ var("group_currency") }}' as currency_group,
        cast(by_line.entities_group as decimal(18, 2)) as balance_entities_group,
        cast(by_line.eliminations_group as decimal(18, 2)) as balance_eliminations_group,
        cast(by_line.entities_group + by_line.eliminations_group as decimal(18, 2)) as balance_group,

        ---------- group currency as presented
        cast(
            case
                when by_line.section = 'Assets' then by_line.entities_group + by_line.eliminations_group
                else -(by_line.entities_group + by_line.eliminations_group)
            end
            as decimal(18, 2)
        ) as amount_group

    from by_line
    inner join fiscal_periods
        on by_line.period_id = fiscal_periods.period_id

)

select * from final
