-- All GL journal lines of the group in canonical columns: the group ERP's own
-- lines and the regional ERP's lines mapped to group codes, each with its fiscal
-- period. Not yet validated: quarantine_gl_journal_lines splits refused rows
-- from fct_gl_journal_lines.
--
-- Incremental by fiscal period: a run rewrites only the periods whose lines
-- changed (a line added, changed, deleted or moved between periods changes the
-- period's count or the sum of its row fingerprints), or only the period given
-- as var period (a backfill). Lines outside the fiscal calendar have no period:
-- they are kept under period_id 'OUTSIDE' so that they are rebuilt like a
-- period; quarantine_gl_journal_lines refuses them.
{%- set columns = [
    'source_system', 'journal_line_key', 'document_key', 'entity_code', 'document_number',
    'line_number', 'document_type', 'posting_date', 'document_date', 'account_code',
    'local_account_code', 'cost_center_code', 'local_cost_center_code', 'product_code',
    'project_code', 'partner_entity_code', 'customer_id', 'reference_document',
    'reversed_document_number', 'line_text', 'currency_txn', 'amount_txn',
    'currency_functional', 'amount_functional', 'source_file_name',
] %}
{%- set period = gl_period() %}

{#- Spark has no delete+insert: it overwrites the period's partition instead. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite' if target.type == 'spark' else 'delete+insert',
    unique_key='period_id',
    partition_by=['period_id'] if target.type == 'spark' else none,
    on_schema_change='fail',
) }}
{{ require_period_columns(['period_id', '_row_fingerprint', '_built_at']) }}

with

erp_lines as (

    select * from {{ ref('stg_erp__journal_items') }}

),

regional_lines as (

    select * from {{ ref('int_regional_journal_lines_mapped') }}

),

fiscal_periods as (

    select * from {{ ref('dim_fiscal_period') }}

),

erp as (

    select
        'erp' as source_system,
        journal_line_key,
        document_key,
        entity_code,
        document_number,
        line_number,
        document_type,
        posting_date,
        document_date,
        account_code,
        cast(null as {{ dbt.type_string() }}) as local_account_code,
        cost_center_code,
        cast(null as {{ dbt.type_string() }}) as local_cost_center_code,
        product_code,
        project_code,
        partner_entity_code,
        customer_id,
        reference_document,
        reversed_document_number,
        line_text,
        currency_txn,
        amount_txn,
        currency_functional,
        amount_functional,
        cast(null as {{ dbt.type_string() }}) as source_file_name
    from erp_lines

),

regional as (

    select
        'regional_erp' as source_system,
        journal_line_key,
        document_key,
        entity_code,
        document_number,
        line_number,
        document_type,
        posting_date,
        cast(null as date) as document_date,
        account_code,
        local_account_code,
        cost_center_code,
        local_cost_center_code,
        cast(null as {{ dbt.type_string() }}) as product_code,
        cast(null as {{ dbt.type_string() }}) as project_code,
        partner_entity_code,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_string() }}) as reference_document,
        reversed_document_number,
        line_text,
        currency_txn,
        amount_txn,
        currency_functional,
        amount_functional,
        source_file_name
    from regional_lines

),

unioned as (

    select * from erp
    union all
    select * from regional

),

with_periods as (

    select
        unioned.*,
        coalesce(fiscal_periods.period_id, 'OUTSIDE') as period_id,
        {{ row_fingerprint(columns) }} as _row_fingerprint
    from unioned
    left join fiscal_periods
        on cast({{ dbt.date_trunc('month', 'unioned.posting_date') }} as date)
            = fiscal_periods.period_start_date

),
{%- if is_incremental() %}

source_periods as (

    select
        period_id,
        count(*) as line_count,
        sum(_row_fingerprint) as fingerprint
    from with_periods
    group by period_id

),

built_periods as (

    select
        period_id,
        count(*) as line_count,
        sum(_row_fingerprint) as fingerprint
    from {{ this }}
    group by period_id

),

periods_to_build as (
    {%- if period %}

    select '{{ period }}' as period_id
    {%- else %}

    select coalesce(source_periods.period_id, built_periods.period_id) as period_id
    from source_periods
    full outer join built_periods
        on source_periods.period_id = built_periods.period_id
    where source_periods.line_count is null
        or built_periods.line_count is null
        or source_periods.line_count <> built_periods.line_count
        or source_periods.fingerprint <> built_periods.fingerprint
    {%- endif %}

),
{%- endif %}

final as (

    select
        with_periods.*,
        {{ built_at() }} as _built_at
    from with_periods
    {%- if is_incremental() %}
    where with_periods.period_id in (select periods_to_build.period_id from periods_to_build)
    {%- endif %}

)

-- stored in period order: fct_gl_journal_lines reads the rebuilt periods' row groups only
select * from final
order by period_id
