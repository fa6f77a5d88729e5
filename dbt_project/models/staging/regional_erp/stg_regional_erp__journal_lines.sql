with

source as (

    select * from {{ source('regional_erp', 'journal_lines') }}

),

deduplicated as (

    {{ deduplicate('source', 'empresa, numero_lancamento, linha', '_dlt_load_id desc') }}

),

renamed as (

    select

        ---------- ids
        {{ source_key('regional_erp', ['empresa', 'numero_lancamento', 'linha']) }} as journal_line_key,
        {{ source_key('regional_erp', ['empresa', 'numero_lancamento']) }} as document_key,
        empresa as local_company_code,
        numero_lancamento as document_number,
        cast(linha as integer) as line_number,
        conta as local_account_code,
        centro_custo as local_cost_center_code,
        parceiro as partner_entity_code,
        estorno_de as reversed_document_number,

        ---------- text
        tipo as document_type,
        historico as line_text,
        _file_name as source_file_name,

        ---------- numerics
        moeda as currency_txn,
        cast(valor_moeda as decimal(18, 2)) as amount_txn,
        -- signed functional (BRL) amount, debit positive like the group ERP
        cast(debito_brl - credito_brl as decimal(18, 2)) as amount_functional,

        ---------- dates
        cast(data_lancamento as date) as posting_date

    from deduplicated

)

select * from renamed
