-- A table, not a view like the other staging models: the GL models, the fiscal
-- calendar, close status, restated postings and several tests all read the
-- journal lines, and each read of a view would deduplicate every line again.
--
-- Incremental on DuckDB: a run reads the raw rows loaded after the latest load it
-- holds (_dlt_load_id) and merges the latest version of each of their keys, the
-- one a rebuild from all of raw would keep: a key's new versions compete with the
-- version held (raw on Parquet appends versions instead of replacing them, and
-- the latest change wins there, not the latest load). int_gl_journal_lines
-- rebuilds the periods of the lines loaded after the latest load it read; the
-- rows a run merged carry its start (_built_at), and its tests read those.
-- raw_erp.journal_items cannot delete a line: dlt merges each version on the key
-- and the ERP reverses a document with another one (a new line, and the
-- original's new version); a line removed from raw by hand stays here until a
-- --full-refresh, and assert_every_journal_line_is_accounted_for names it.
-- Spark rebuilds the table on every run (its incremental strategies on plain
-- Parquet cannot merge on a key).
{{ config(
    materialized='table' if target.type == 'spark' else 'incremental',
    incremental_strategy='merge',
    unique_key='journal_line_key',
    on_schema_change='fail',
) }}
{{ require_period_columns(['_dlt_load_id', '_built_at']) }}

with

source as (

    select * from {{ source('erp', 'journal_items') }}
    {%- if is_incremental() %}
    -- an empty table holds no load yet
    where _dlt_load_id > (select coalesce(max(held._dlt_load_id), '') from {{ this }} as held)
    {%- endif %}

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
        last_change_date_time as last_changed_at,

        ---------- lineage
        _dlt_load_id

    from deduplicated

),
{%- if is_incremental() %}

-- the version held of each key that changed, against which the new ones compete
held as (

    select held.*
    from {{ this }} as held
    where held.journal_line_key in (select renamed.journal_line_key from renamed)

),

-- by position: renamed has the columns of this model, in its order, but _built_at
competing as (

    select
        renamed.*,
        cast(null as {{ dbt.type_timestamp() }}) as _built_at,
        false as _is_held
    from renamed

    union all

    select
        held.*,
        true as _is_held
    from held

),

latest as (

    {{ deduplicate('competing', 'journal_line_key', 'last_changed_at desc, _dlt_load_id desc') }}

),

{%- endif %}

changed as (

    select * from {{ 'latest' if is_incremental() else 'renamed' }}
    {%- if is_incremental() %}
    where not _is_held
    {%- endif %}

),

final as (

    select
        ---------- ids
        journal_line_key,
        document_key,
        entity_code,
        document_number,
        line_number,
        account_code,
        cost_center_code,
        product_code,
        project_code,
        partner_entity_code,
        customer_id,
        reversed_document_number,
        reference_document,

        ---------- text
        document_type,
        debit_credit_code,
        line_text,

        ---------- fiscal calendar as stated by the source
        fiscal_year,
        fiscal_period,

        ---------- numerics
        currency_txn,
        amount_txn,
        currency_functional,
        amount_functional,

        ---------- dates
        posting_date,
        document_date,

        ---------- timestamps
        last_changed_at,

        ---------- lineage
        _dlt_load_id,
        {{ built_at() }} as _built_at
    from changed

)

select * from final
