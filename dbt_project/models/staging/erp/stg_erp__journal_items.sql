-- A table, not a view like the other staging models: the GL models, the fiscal
-- calendar, close status, restated postings and several tests all read the
-- journal lines, and each read of a view would deduplicate every line again.
--
-- Incremental on DuckDB: a run reads the raw rows loaded after the latest load it
-- holds (_dlt_load_id) and merges the latest version of each of their keys, the
-- one a rebuild from all of raw would keep: a key's new versions compete with the
-- version held (raw is a log: dlt appends each version, from the bulk files and
-- the API alike, and the latest change wins, not the latest load; versions tied on
-- both keep one row here, where the raw contract and checkpoints count each, so
-- that a row copied within one load still shows there). fct_gl_journal_lines
-- rebuilds the periods of the lines loaded after the latest load it read; the
-- rows a run merged carry its start (_built_at), and its tests read those.
-- raw_erp.journal_items cannot delete a line: dlt appends each version of a key
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

{%- set line_key = ['company_code', 'fiscal_year', 'accounting_document', 'ledger_gl_line_item'] %}
{%- set loaded_since %}
    {%- if is_incremental() %}
    -- an empty table holds no load yet
    where _dlt_load_id > (select coalesce(max(held._dlt_load_id), '') from {{ this }} as held)
    {%- endif %}
{%- endset %}

with

source as (

    select * from {{ source('erp', 'journal_items') }}
    {{- loaded_since }}

),

-- the keys of which the loads read hold more than one version: few (a line changed
-- twice between two loads, or sent in a bulk file and by the API), so only their
-- versions are ranked, not every line. Raw is read again here and below, not
-- through source: a CTE read twice is materialized whole
versioned_keys as (

    select
        {{ line_key | join(',\n        ') }},
        true as is_versioned
    from {{ source('erp', 'journal_items') }}
    {{- loaded_since }}
    group by {{ line_key | join(', ') }}
    having count(*) > 1

),

ranked_versions as (

    select
        versions.*,
        row_number() over (
            partition by
                versions.company_code,
                versions.fiscal_year,
                versions.accounting_document,
                versions.ledger_gl_line_item
            order by versions.last_change_date_time desc, versions._dlt_load_id desc
        ) as _row_number
    from {{ source('erp', 'journal_items') }} as versions
    inner join versioned_keys
        on versions.company_code is not distinct from versioned_keys.company_code
            and versions.fiscal_year is not distinct from versioned_keys.fiscal_year
            and versions.accounting_document is not distinct from versioned_keys.accounting_document
            and versions.ledger_gl_line_item is not distinct from versioned_keys.ledger_gl_line_item
    {%- if is_incremental() %}
    where versions._dlt_load_id > (select coalesce(max(held._dlt_load_id), '') from {{ this }} as held)
    {%- endif %}

),

-- the latest version of each key: what ranking every line would keep
deduplicated as (

    select
        source.*,
        1 as _row_number
    from source
    left join versioned_keys
        on source.company_code is not distinct from versioned_keys.company_code
            and source.fiscal_year is not distinct from versioned_keys.fiscal_year
            and source.accounting_document is not distinct from versioned_keys.accounting_document
            and source.ledger_gl_line_item is not distinct from versioned_keys.ledger_gl_line_item
    where versioned_keys.is_versioned is null

    union all

    select *
    from ranked_versions
    where _row_number = 1

),

with_document_keys as (

    select
        deduplicated.*,
        {{ source_key('erp', ['company_code', 'fiscal_year', 'accounting_document']) }} as document_key
    from deduplicated

),

renamed as (

    select

        ---------- ids
        -- the line's key extends its document's: source_key of all four columns
        {{ dbt.concat([
            'document_key', "'|'", "coalesce(cast(ledger_gl_line_item as " ~ dbt.type_string() ~ "), '')",
        ]) }} as journal_line_key,
        document_key,
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

    from with_document_keys

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
