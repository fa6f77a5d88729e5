-- One row per legal entity, fiscal period and income statement line, in the
-- entity's functional currency and translated into the group currency at each
-- period's average rate. Shown credit-positive: revenue and other income
-- positive, costs and expenses negative, so the lines of a period add up to the
-- net income.
with

trial_balance as (

    select * from {{ ref('trial_balance') }}

),

accounts as (

    select * from {{ ref('int_account_lines_by_period') }}

),

final as (

    select

        ---------- ids
        trial_balance.entity_code,
        trial_balance.period_id,
        accounts.statement_line_code,

        ---------- fiscal calendar
        trial_balance.fiscal_year,
        trial_balance.fiscal_period,

        ---------- statement line
        accounts.section,
        accounts.statement_line_name,
        accounts.statement_line_sort_order,

        ---------- functional currency
        trial_balance.currency_functional,
        cast(-sum(trial_balance.movement_functional) as decimal(18, 2)) as amount_period_functional,
        cast(-sum(trial_balance.closing_functional) as decimal(18, 2)) as amount_ytd_functional,

        ---------- group currency
        trial_balance.currency_group,
        cast(-sum(trial_balance.movement_group) as decimal(18, 2)) as amount_period_group,
        cast(-sum(trial_balance.closing_group) as decimal(18, 2)) as amount_ytd_group

    from trial_balance
    inner join accounts
        on trial_balance.account_code = accounts.account_code
            and trial_balance.period_id = accounts.period_id
    where accounts.statement = 'PL'
    group by
        trial_balance.entity_code,
        trial_balance.period_id,
        accounts.statement_line_code,
        trial_balance.fiscal_year,
        trial_balance.fiscal_period,
        accounts.section,
        accounts.statement_line_name,
        accounts.statement_line_sort_order,
        trial_balance.currency_functional,
        trial_balance.currency_group

)

select * from final
