-- All GL journal lines of the group in canonical columns: the group ERP's own
-- lines and the regional ERP's lines mapped to group codes. Not yet validated:
-- quarantine_gl_journal_lines splits refused rows from fct_gl_journal_lines.
with

erp_lines as (

    select * from {{ ref('stg_erp__journal_items') }}

),

regional_lines as (

    select * from {{ ref('int_regional_journal_lines_mapped') }}

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

)

select * from unioned
