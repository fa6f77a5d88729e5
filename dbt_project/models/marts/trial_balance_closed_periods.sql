-- depends_on: {{ ref('restatements') }}
{#- on Spark, whose Parquet tables cannot delete, a run overwrites the entity-periods it writes -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert' if target.type != 'spark' else 'insert_overwrite',
        unique_key=['entity_code', 'account_code', 'period_id'],
        partition_by=['entity_code', 'period_id'] if target.type == 'spark' else none,
        on_schema_change='fail',
    )
}}
-- The trial balance of every closed period as it was first recorded: one row
-- per legal entity, account and closed fiscal period. A period is closed once
-- a later period has postings. Each run records the periods that have closed
-- since the last run (whole entity-periods) and leaves recorded periods alone, except a
-- period flagged in the seed restatements and the closed periods after it, which are
-- recorded anew. The check
-- assert_closed_periods_are_unchanged_unless_restated compares the live trial
-- balance with this record.
with

trial_balance as (

    select * from {{ ref('trial_balance') }}

),

fiscal_periods as (

    select * from {{ ref('dim_fiscal_period') }}

),

journal_lines as (

    select * from {{ ref('fct_gl_journal_lines') }}

),

{%- if is_incremental() %}

restatements as (

    select * from {{ ref('restatements') }}

),
{%- endif %}

latest_posted as (

    select max(fiscal_periods.period_index) as period_index
    from journal_lines
    inner join fiscal_periods
        on journal_lines.period_id = fiscal_periods.period_id

),

closed as (

    select
        trial_balance.entity_code,
        trial_balance.account_code,
        trial_balance.period_id,
        trial_balance.closing_functional,
        trial_balance.closing_group
    from trial_balance
    inner join fiscal_periods
        on trial_balance.period_id = fiscal_periods.period_id
    cross join latest_posted
    where fiscal_periods.period_index < latest_posted.period_index

),

to_record as (

    select closed.*
    from closed
    {%- if is_incremental() %}
    left join (
        select distinct entity_code, period_id from {{ this }}
    ) as recorded
        on closed.entity_code = recorded.entity_code
        and closed.period_id = recorded.period_id
    left join (
        -- a flagged restatement re-records its period and the closed periods after it
        select entity_code, min(period_id) as period_id from restatements group by entity_code
    ) as restated
        on closed.entity_code = restated.entity_code
        and closed.period_id >= restated.period_id
    where recorded.period_id is null
        or restated.period_id is not null
    {%- endif %}

),

final as (

    select

        ---------- ids
        entity_code,
        account_code,
        period_id,

        ---------- balances as recorded
        cast(closing_functional as decimal(18, 2)) as closing_functional,
        cast(closing_group as decimal(18, 2)) as closing_group,

        ---------- timestamps
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}) as recorded_at

    from to_record

)

select * from final
