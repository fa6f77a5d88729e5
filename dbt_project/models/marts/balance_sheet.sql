-- One row per legal entity, fiscal period and balance sheet line: closing
-- balances in the entity's functional currency and translated into the group
-- currency (assets and liabilities at the closing rate, equity at historical
-- rates, the translation difference on the cumulative translation adjustment
-- line). The year-to-date result of the P&L is shown as the equity line
-- CURRENT_YEAR_EARNINGS; prior years' results are already in retained earnings
-- (carried by trial_balance). Assets are shown debit-positive, liabilities and
-- equity credit-positive, so that total assets equal total liabilities and
-- equity in both currencies.
with

trial_balance as (

    select * from {{ ref('trial_balance') }}

),

accounts as (

    select * from {{ ref('int_account_lines_by_period') }}

),

equity_sort_order as (

    select max(statement_line_sort_order) + 1 as statement_line_sort_order
    from accounts
    where section = 'Equity'

),

balance_sheet_lines as (

    select
        trial_balance.entity_code,
        trial_balance.period_id,
        trial_balance.fiscal_year,
        trial_balance.fiscal_period,
        accounts.section,
        accounts.statement_line_code,
        accounts.statement_line_name,
        accounts.statement_line_sort_order,
        trial_balance.currency_functional,
        trial_balance.currency_group,
        sum(trial_balance.closing_functional) as balance_functional,
        sum(trial_balance.closing_group) as balance_group
    from trial_balance
    inner join accounts
        on trial_balance.account_code = accounts.account_code
            and trial_balance.period_id = accounts.period_id
    where accounts.statement <> 'PL'
    group by
        trial_balance.entity_code,
        trial_balance.period_id,
        trial_balance.fiscal_year,
        trial_balance.fiscal_period,
        accounts.section,
        accounts.statement_line_code,
        accounts.statement_line_name,
        accounts.statement_line_sort_order,
        trial_balance.currency_functional,
        trial_balance.currency_group

),

current_year_earnings as (

    select
        trial_balance.entity_code,
        trial_balance.period_id,
        trial_balance.fiscal_year,
        trial_balance.fiscal_period,
        'Equity' as section,
        'CURRENT_YEAR_EARNINGS' as statement_line_code,
        'Current-year earnings' as statement_line_name,
        equity_sort_order.statement_line_sort_order,
        trial_balance.currency_functional,
        trial_balance.currency_group,
        sum(trial_balance.closing_functional) as balance_functional,
        sum(trial_balance.closing_group) as balance_group
    from trial_balance
    inner join accounts
        on trial_balance.account_code = accounts.account_code
            and trial_balance.period_id = accounts.period_id
    cross join equity_sort_order
    where accounts.statement = 'PL'
    group by
        trial_balance.entity_code,
        trial_balance.period_id,
        trial_balance.fiscal_year,
        trial_balance.fiscal_period,
        equity_sort_order.statement_line_sort_order,
        trial_balance.currency_functional,
        trial_balance.currency_group

),

unioned as (

    select * from balance_sheet_lines
    union all
    select * from current_year_earnings

),

final as (

    select

        ---------- ids
        entity_code,
        period_id,
        statement_line_code,

        ---------- fiscal calendar
        fiscal_year,
        fiscal_period,

        ---------- statement line
        section,
        statement_line_name,
        statement_line_sort_order,

        ---------- functional currency
        currency_functional,
        cast(balance_functional as decimal(18, 2)) as balance_functional,
        cast(
            case when section = 'Assets' then balance_functional else -balance_functional end
            as decimal(18, 2)
        ) as amount_functional,

        ---------- group currency
        currency_group,
        cast(balance_group as decimal(18, 2)) as balance_group,
        cast(
            case when section = 'Assets' then balance_group else -balance_group end
            as decimal(18, 2)
        ) as amount_group

    from unioned

)

select * from final
