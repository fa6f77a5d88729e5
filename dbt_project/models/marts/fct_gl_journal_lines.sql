-- One row per booked GL journal line of the group (group ERP and mapped
-- regional ERP), with amounts in transaction, functional and group currency.
-- Lines refused by quarantine_gl_journal_lines are left out.
--
-- Incremental by fiscal period: a run rewrites the periods that
-- int_gl_journal_lines rewrote since this model last ran (its _built_at is
-- later than ours) and those holding a line quarantined since, so a backfill
-- of one period (var period) rewrites that period here too, and the other
-- periods' rows stay as they are. A corrected FX rate or master record does
-- not change the lines: rebuild with --full-refresh (and if a line ever fell
-- between this fact and quarantine, the test that every line is accounted for
-- fails the build).
{#- Spark has no delete+insert: it overwrites the period's partition instead. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite' if target.type == 'spark' else 'delete+insert',
    unique_key='period_id',
    partition_by=['period_id'] if target.type == 'spark' else none,
    on_schema_change='fail',
) }}
{{ require_period_columns(['period_id', '_built_at']) }}

with

journal_lines as (

    select * from {{ ref('int_gl_journal_lines') }}

),

quarantined as (

    select * from {{ ref('quarantine_gl_journal_lines') }}

),

fiscal_periods as (

    select * from {{ ref('dim_fiscal_period') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates') }}

),

{%- if is_incremental() %}

-- int_gl_journal_lines is read here directly, not through journal_lines: a CTE
-- read twice is materialized whole (all its lines) before either reader filters
periods_to_build as (

    select distinct rebuilt.period_id
    from {{ ref('int_gl_journal_lines') }} as rebuilt
    where rebuilt._built_at > (select max(built._built_at) from {{ this }} as built)

    union

    -- a line refused since it was booked (its document got a bad line) leaves
    select distinct built.period_id
    from {{ this }} as built
    inner join quarantined
        on built.journal_line_key = quarantined.source_key

),
{%- endif %}

accepted as (

    select journal_lines.*
    from journal_lines
    left join quarantined
        on journal_lines.journal_line_key = quarantined.source_key
    where quarantined.source_key is null
    {%- if is_incremental() %}
        and journal_lines.period_id in (select periods_to_build.period_id from periods_to_build)
    {%- endif %}

),

final as (

    select

        ---------- ids
        accepted.journal_line_key,
        accepted.document_key,
        accepted.source_system,
        accepted.entity_code,
        accepted.period_id,
        accepted.document_number,
        accepted.line_number,
        accepted.account_code,
        accepted.local_account_code,
        accepted.cost_center_code,
        accepted.local_cost_center_code,
        accepted.product_code,
        accepted.project_code,
        accepted.partner_entity_code,
        accepted.customer_id,
        accepted.reference_document,
        accepted.reversed_document_number,

        ---------- text
        accepted.document_type,
        accepted.line_text,
        accepted.source_file_name,

        ---------- dates
        accepted.posting_date,
        accepted.document_date,
        fiscal_periods.fiscal_year,
        fiscal_periods.fiscal_period,

        ---------- numerics
        accepted.currency_txn,
        accepted.amount_txn,
        accepted.currency_functional,
        accepted.amount_functional,
        '{{ var("group_currency") }}' as currency_group,
        fx_rates.rate_to_group as fx_rate_functional_to_group,
        cast(round(accepted.amount_functional * fx_rates.rate_to_group, 2) as decimal(18, 2))
            as amount_group,

        ---------- lineage
        {{ built_at() }} as _built_at

    from accepted
    left join fiscal_periods
        on accepted.period_id = fiscal_periods.period_id
    left join fx_rates
        on accepted.currency_functional = fx_rates.currency_code
            and accepted.posting_date = fx_rates.rate_date

)

-- in period order without a sort: int_gl_journal_lines is stored in period order,
-- and the scan and the joins to small tables keep a row group's rows together, so
-- a period's export or rebuild still reads its own row groups only (sorting every
-- line again cost a third of this model's full build)
select * from final
