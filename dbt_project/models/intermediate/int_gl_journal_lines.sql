-- All GL journal lines of the group in canonical columns: the group ERP's own
-- lines and the regional ERP's lines mapped to group codes, each with its fiscal
-- period. Not yet validated: quarantine_gl_journal_lines splits refused rows
-- from fct_gl_journal_lines.
--
-- Incremental by fiscal period: a run rewrites only the periods whose lines
-- changed, or only the period given as var period (a backfill). Lines outside
-- the fiscal calendar have no period: they are kept under period_id 'OUTSIDE' so
-- that they are rebuilt like a period; quarantine_gl_journal_lines refuses them.
-- A period's lines changed when
--   - stg_erp__journal_items took a new version of one of its group ERP lines:
--     staging carries each version's raw load (_dlt_load_id), this table the
--     latest load it has read (_staged_load_id); the line's period now and the
--     period it is held under are both rebuilt;
--   - its regional lines differ in count or in the sum of their row fingerprints
--     (int_regional_journal_lines_mapped is rebuilt on every run, and its mapping
--     seeds can change under unchanged lines);
--   - the fiscal calendar moved it: a held line's posting date lies outside its
--     period, or the period left the calendar.
-- A backfill rewrites its period from what staging holds and leaves
-- _staged_load_id as it was, so the next run still rebuilds the periods of the
-- loads it did not read. Staging never deletes a line (see its header); after
-- a change to staging's SQL, rebuild with --full-refresh.
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
{{ require_period_columns(['period_id', '_row_fingerprint', '_staged_load_id', '_built_at']) }}

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
        cast(null as {{ dbt.type_string() }}) as source_file_name,
        -- only regional lines are compared by fingerprint (see the header)
        cast(null as decimal(38, 0)) as _row_fingerprint
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

regional_fingerprinted as (

    select
        regional.*,
        {{ row_fingerprint(columns) }} as _row_fingerprint
    from regional

),

unioned as (

    select * from erp
    union all
    select * from regional_fingerprinted

),

with_periods as (

    select
        unioned.*,
        coalesce(fiscal_periods.period_id, 'OUTSIDE') as period_id
    from unioned
    left join fiscal_periods
        on cast({{ dbt.date_trunc('month', 'unioned.posting_date') }} as date)
            = fiscal_periods.period_start_date

),
{%- if is_incremental() %}

-- {{ this }} and staging are read where needed, not through a CTE: a CTE read
-- twice is materialized whole
read_through as (

    select coalesce(max(built._staged_load_id), '') as load_id
    from {{ this }} as built

),
{%- if not period %}

staged_lines as (

    select
        erp_lines.journal_line_key,
        coalesce(fiscal_periods.period_id, 'OUTSIDE') as period_id
    from {{ ref('stg_erp__journal_items') }} as erp_lines
    left join fiscal_periods
        on cast({{ dbt.date_trunc('month', 'erp_lines.posting_date') }} as date)
            = fiscal_periods.period_start_date
    where erp_lines._dlt_load_id > (select read_through.load_id from read_through)

),

regional_periods as (

    select
        coalesce(fiscal_periods.period_id, 'OUTSIDE') as period_id,
        count(*) as line_count,
        sum(regional._row_fingerprint) as fingerprint
    from regional_fingerprinted as regional
    left join fiscal_periods
        on cast({{ dbt.date_trunc('month', 'regional.posting_date') }} as date)
            = fiscal_periods.period_start_date
    group by coalesce(fiscal_periods.period_id, 'OUTSIDE')

),

built_periods as (

    select
        period_id,
        min(posting_date) as first_posting_date,
        max(posting_date) as last_posting_date,
        count(case when source_system = 'regional_erp' then 1 end) as regional_line_count,
        sum(_row_fingerprint) as regional_fingerprint
    from {{ this }}
    group by period_id

),
{%- endif %}

periods_to_build as (
    {%- if period %}

    select '{{ period }}' as period_id
    {%- else %}

    -- group ERP lines staged since: where they are now
    select staged_lines.period_id
    from staged_lines

    union

    -- and where they were
    select built.period_id
    from {{ this }} as built
    where built.journal_line_key in (select staged_lines.journal_line_key from staged_lines)

    union

    -- regional lines added, changed, removed or moved
    select coalesce(regional_periods.period_id, built_periods.period_id) as period_id
    from regional_periods
    full outer join built_periods
        on regional_periods.period_id = built_periods.period_id
    where coalesce(regional_periods.line_count, 0) <> coalesce(built_periods.regional_line_count, 0)
        or regional_periods.fingerprint <> built_periods.regional_fingerprint

    union

    -- lines the fiscal calendar no longer puts in the period they are held under
    select built_periods.period_id
    from built_periods
    left join fiscal_periods
        on built_periods.period_id = fiscal_periods.period_id
    where built_periods.period_id <> 'OUTSIDE'
        and (
            fiscal_periods.period_id is null
            or built_periods.first_posting_date < fiscal_periods.period_start_date
            or built_periods.last_posting_date > fiscal_periods.period_end_date
        )
    {%- endif %}

),
{%- endif %}

staged_loads as (

    select max(staged._dlt_load_id) as load_id
    from {{ ref('stg_erp__journal_items') }} as staged

),

final as (

    select
        with_periods.*,
        -- the latest staged load read; a backfill reads one period of the staged
        -- lines, so their loads stay to be read
        {%- set loads_read = 'read_through' if is_incremental() and period else 'staged_loads' %}
        (select {{ loads_read }}.load_id from {{ loads_read }}) as _staged_load_id,
        {{ built_at() }} as _built_at
    from with_periods
    {%- if is_incremental() %}
    where with_periods.period_id in (select periods_to_build.period_id from periods_to_build)
    {%- endif %}

)

-- stored in period order: fct_gl_journal_lines reads the rebuilt periods' row groups only
select * from final
order by period_id
