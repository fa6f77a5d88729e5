with

source as (

    select * from {{ source('erp', 'financial_statement_items') }}

),

deduplicated as (

    {{ deduplicate('source', 'financial_statement_item', '_dlt_load_id desc') }}

),

renamed as (

    select

        ---------- ids
        financial_statement_item as statement_line_code,

        ---------- text
        item_name as statement_line_name,
        statement,
        section,
        normal_balance,

        ---------- numerics
        cast(sort_order as integer) as sort_order

    from deduplicated

)

select * from renamed
