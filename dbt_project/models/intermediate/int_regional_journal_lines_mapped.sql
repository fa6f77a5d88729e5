-- Regional journal lines in group codes. A local code missing from a mapping seed
-- becomes the explicit member 'UNMAPPED' (the local code stays in its column), so
-- a mapping gap shows up in the marts instead of dropping money.
with

journal_lines as (

    select * from {{ ref('stg_regional_erp__journal_lines') }}

),

account_map as (

    select * from {{ ref('map_regional_accounts') }}

),

cost_center_map as (

    select * from {{ ref('map_regional_cost_centers') }}

),

company_map as (

    select * from {{ ref('map_regional_companies') }}

),

legal_entities as (

    select * from {{ ref('stg_erp__company_codes') }}

),

mapped as (

    select

        ---------- ids
        journal_lines.journal_line_key,
        journal_lines.document_key,
        case
            when journal_lines.local_company_code is null then null
            else coalesce(company_map.group_company_code, 'UNMAPPED')
        end as entity_code,
        journal_lines.local_company_code,
        journal_lines.document_number,
        journal_lines.line_number,
        case
            when journal_lines.local_account_code is null then null
            else coalesce(account_map.group_account_code, 'UNMAPPED')
        end as account_code,
        journal_lines.local_account_code,
        case
            when journal_lines.local_cost_center_code is null then null
            else coalesce(cost_center_map.group_cost_center_code, 'UNMAPPED')
        end as cost_center_code,
        journal_lines.local_cost_center_code,
        journal_lines.partner_entity_code,
        journal_lines.reversed_document_number,

        ---------- text
        journal_lines.document_type,
        journal_lines.line_text,
        journal_lines.source_file_name,

        ---------- numerics
        journal_lines.currency_txn,
        journal_lines.amount_txn,
        -- the regional extract has no currency column for its books: the
        -- functional currency is the mapped legal entity's
        legal_entities.currency_functional,
        journal_lines.amount_functional,

        ---------- dates
        journal_lines.posting_date

    from journal_lines
    left join account_map
        on journal_lines.local_account_code = account_map.local_account_code
    left join cost_center_map
        on journal_lines.local_cost_center_code = cost_center_map.local_cost_center_code
    left join company_map
        on journal_lines.local_company_code = company_map.local_company_code
    left join legal_entities
        on company_map.group_company_code = legal_entities.entity_code

)

select * from mapped
