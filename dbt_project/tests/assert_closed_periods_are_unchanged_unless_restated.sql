{{ config(meta={"dagster": {"ref": {"name": "trial_balance_closed_periods"}}}) }}

-- Invariant 8: the trial balance of a closed period is the same on every run
-- unless a restatement is flagged (seed restatements) for it or an earlier
-- period. Fails with every account whose live closing balance differs from the
-- one recorded when the period closed, or that appeared or disappeared since.
with

trial_balance as (

    select * from {{ ref('trial_balance') }}

),

recorded as (

    select * from {{ ref('trial_balance_closed_periods') }}

),

restatements as (

    select * from {{ ref('restatements') }}

),

-- a restatement flagged for a period excuses it and the closed periods after it:
-- their balances roll forward from the restated one (period ids sort in time)
restated as (

    select
        entity_code,
        min(period_id) as period_id
    from restatements
    group by entity_code

),

compared as (

    select
        coalesce(recorded.entity_code, trial_balance.entity_code) as entity_code,
        coalesce(recorded.period_id, trial_balance.period_id) as period_id,
        coalesce(recorded.account_code, trial_balance.account_code) as account_code,
        recorded.closing_functional as recorded_closing_functional,
        trial_balance.closing_functional,
        recorded.closing_group as recorded_closing_group,
        trial_balance.closing_group
    from recorded
    full outer join (
        select trial_balance.*
        from trial_balance
        inner join (
            select distinct
                entity_code,
                period_id
            from recorded
        ) as recorded_periods
            on trial_balance.entity_code = recorded_periods.entity_code
                and trial_balance.period_id = recorded_periods.period_id
    ) as trial_balance
        on recorded.entity_code = trial_balance.entity_code
            and recorded.account_code = trial_balance.account_code
            and recorded.period_id = trial_balance.period_id

)

select compared.*
from compared
left join restated
    on compared.entity_code = restated.entity_code
        and compared.period_id >= restated.period_id
where restated.period_id is null
    and (
        compared.closing_functional is distinct from compared.recorded_closing_functional
        or compared.closing_group is distinct from compared.recorded_closing_group
    )
