{{ config(meta={"dagster": {"ref": {"name": "trial_balance"}}}) }}

-- Invariant 8 (roll-forward): the opening balance of a period is the closing
-- balance of the period before, for every account; P&L accounts restart at zero
-- in the first period of a fiscal year. Checked in functional and group currency.
with

trial_balance as (

    select * from {{ ref('trial_balance') }}

),

accounts as (

    select * from {{ ref('dim_account') }}

),

fiscal_periods as (

    select * from {{ ref('dim_fiscal_period') }}

),

with_previous as (

    select
        trial_balance.entity_code,
        trial_balance.account_code,
        trial_balance.period_id,
        accounts.statement = 'PL' and fiscal_periods.is_fiscal_year_start as restarts,
        trial_balance.opening_functional,
        trial_balance.opening_group,
        lag(trial_balance.closing_functional, 1, 0) over (
            partition by trial_balance.entity_code, trial_balance.account_code
            order by fiscal_periods.period_index
        ) as previous_closing_functional,
        lag(trial_balance.closing_group, 1, 0) over (
            partition by trial_balance.entity_code, trial_balance.account_code
            order by fiscal_periods.period_index
        ) as previous_closing_group
    from trial_balance
    inner join accounts
        on trial_balance.account_code = accounts.account_code
    inner join fiscal_periods
        on trial_balance.period_id = fiscal_periods.period_id

)

select * from with_previous
where (restarts and (opening_functional <> 0 or opening_group <> 0))
    or (
        not restarts
        and (
            opening_functional <> previous_closing_functional
            or opening_group <> previous_closing_group
        )
    )
