-- One row per fiscal period and income statement line of the group: the
-- legal entities' P&L translated into the group currency at average rates,
-- plus the intercompany revenue and expense eliminations. Credit-positive like
-- income_statement: the lines of a period add up to the group's net income.
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

entity_amounts as (

    select
        account_code,
        period_id,
        movement_group as entities_period_group,
        closing_group as entities_ytd_group,
        0 as eliminations_period_group,
        0 as eliminations_ytd_group
    from trial_balance

),

elimination_amounts as (

    select
        account_code,
        period_id,
        0 as entities_period_group,
        0 as entities_ytd_group,
        amount_period_group as eliminations_period_group,
        amount_closing_group as eliminations_ytd_group
    from eliminations
    where elimination_type = 'revenue_and_expense'

),

unioned as (

    select * from entity_amounts
    union all
    select * from elimination_amounts

),

by_line as (

    select
        unioned.period_id,
        accounts.statement_line_code,
        accounts.section,
        accounts.statement_line_name,
        accounts.statement_line_sort_order,
        sum(unioned.entities_period_group) as entities_period_group,
        sum(unioned.eliminations_period_group) as eliminations_period_group,
        sum(unioned.entities_ytd_group) as entities_ytd_group,
        sum(unioned.eliminations_ytd_group) as eliminations_ytd_group
    from unioned
    inner join accounts
        on unioned.account_code = accounts.account_code
            and unioned.period_id = accounts.period_id
    where accounts.statement = 'PL'
    group by
        unioned.period_id,
        accounts.statement_line_code,
        accounts.section,
        accounts.statement_line_name,
        accounts.statement_line_sort_order

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

        ---------- group currency, credit-positive
        '{{ var("group_currency") }}' as currency_group,
        cast(-by_line.entities_period_group as decimal(18, 2)) as amount_period_entities_group,
        cast(-by_line.eliminations_period_group as decimal(18, 2)) as amount_period_eliminations_group,
        cast(-(by_line.entities_period_group + by_line.eliminations_period_group) as decimal(18, 2))
            as amount_period_group,
        cast(-by_line.entities_ytd_group as decimal(18, 2)) as amount_ytd_entities_group,
        cast(-by_line.eliminations_ytd_group as decimal(18, 2)) as amount_ytd_eliminations_group,
        cast(-(by_line.entities_ytd_group + by_line.eliminations_ytd_group) as decimal(18, 2))
            as amount_ytd_group

    from by_line
    inner join fiscal_periods
        on by_line.period_id = fiscal_periods.period_id

)

select * from final
