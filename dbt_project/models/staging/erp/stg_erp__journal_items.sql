-- A table, not a view like the other staging models: the GL models, the fiscal
-- calendar, close status, restated postings and several tests all read the
-- journal lines, and each read of a view would deduplicate every line again.
{{ config(materialized='table') }}

with

source as (

    select * from {{ source('erp', 'journal_items') }}

),

deduplicated as (

    {{ deduplicate(
        'source',
        'company_code, fiscal_year, accounting_document, ledger_gl_line_item',
        'last_change_date_time desc, _dlt_load_id desc'
    ) }}

),

renamed as (

    select

        ---------- ids
        {{ source_key('erp', ['company_code', 'fiscal_year', 'accounting_document', 'ledger_gl_line_item']) }}
            as journal_line_key,
        {{ source_key('erp', ['company_code', 'fiscal_year', 'accounting_document']) }} as document_key,
        company_code as entity_code,
        accounting_document as document_number,
        cast(ledger_gl_line_item as integer) as line_number,
        gl_account as account_code,
        cost_center as cost_center_code,
        product as product_code,
        project as project_code,
        partner_company as partner_entity_code,
        customer as customer_id,
        reversal_reference_document as reversed_document_number,
        reference_document,

        ---------- text
        accounting_document_type as document_type,
        debit_credit_code,
        document_item_text as line_text,

        ---------- fiscal calendar as stated by the source
        cast(fiscal_year as integer) as fiscal_year,
        cast(fiscal_period as integer) as fiscal_period,

        ---------- numerics
        transaction_currency as currency_txn,
        cast(amount_in_transaction_currency as decimal(18, 2)) as amount_txn,
        company_code_currency as currency_functional,
        cast(amount_in_company_code_currency as decimal(18, 2)) as amount_functional,

        ---------- dates
        cast(posting_date as date) as posting_date,
        cast(document_date as date) as document_date,

        ---------- timestamps
        last_change_date_time as last_changed_at

    from deduplicated

)

select * from renamed
