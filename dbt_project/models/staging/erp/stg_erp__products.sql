with

source as (

    select * from {{ source('erp', 'products') }}

),

deduplicated as (

    {{ deduplicate('source', 'product', 'last_change_date_time desc, _dlt_load_id desc') }}

),

renamed as (

    select

        ---------- ids
        product as product_code,

        ---------- text
        product_name,
        product_family,
        product_line,

        ---------- timestamps
        last_change_date_time as last_changed_at

    from deduplicated

)

select * from renamed
