-- All GL journal lines of the group in canonical columns: the group ERP's own
-- lines and the regional ERP's lines mapped to group codes, each with its fiscal
-- period. Not yet validated: quarantine_gl_journal_lines refuses lines,
-- fct_gl_journal_lines books the others.
--
-- A view: the fact is the one table that stores the lines (incremental by fiscal
-- period), and each reader takes only what it needs from here (the fact the
-- periods it rebuilds, the quarantine the columns it checks). Lines outside the
-- fiscal calendar have no period: they are under period_id 'OUTSIDE', which
-- quarantine_gl_journal_lines refuses.
{{ config(materialized='view') }}

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
        coalesce(fiscal_periods.period_id, 'OUTSIDE') as period_id
    from unioned
    left join fiscal_periods
        on cast({{ dbt.date_trunc('month', 'unioned.posting_date') }} as date)
            = fiscal_periods.period_start_date

)

select * from with_periods
