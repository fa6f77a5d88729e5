{{ config(meta={"dagster": {"ref": {"name": "fct_gl_journal_lines"}}}) }}

-- Invariant 1: every GL journal line loaded into raw_* (group ERP journal_items
-- and regional ERP journal_lines, one per source key) is either booked in
-- fct_gl_journal_lines or refused in quarantine_gl_journal_lines - exactly once.
-- Fails with the keys that are missing, duplicated or unknown to raw.
with

raw_keys as (

    select distinct
        {{ source_key('erp', ['company_code', 'fiscal_year', 'accounting_document', 'ledger_gl_line_item']) }}
            as journal_line_key
    from {{ source('erp', 'journal_items') }}

    union

    select distinct
        {{ source_key('regional_erp', ['empresa', 'numero_lancamento', 'linha']) }}
    from {{ source('regional_erp', 'journal_lines') }}

),

accounted as (

    select
        journal_line_key,
        'fct_gl_journal_lines' as destination
    from {{ ref('fct_gl_journal_lines') }}

    union all

    select
        source_key as journal_line_key,
        'quarantine_gl_journal_lines' as destination
    from {{ ref('quarantine_gl_journal_lines') }}

),

accounted_keys as (

    select
        journal_line_key,
        count(*) as times_accounted
    from accounted
    group by journal_line_key

),

final as (

    select
        coalesce(raw_keys.journal_line_key, accounted_keys.journal_line_key) as journal_line_key,
        case
            when accounted_keys.journal_line_key is null then 'in raw, neither booked nor quarantined'
            when raw_keys.journal_line_key is null then 'booked or quarantined, not in raw'
            else 'accounted for more than once'
        end as failure
    from raw_keys
    full outer join accounted_keys
        on raw_keys.journal_line_key = accounted_keys.journal_line_key
    where raw_keys.journal_line_key is null
        or accounted_keys.journal_line_key is null
        or accounted_keys.times_accounted > 1

)

select * from final
