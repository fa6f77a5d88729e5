with

products as (

    select * from {{ ref('stg_erp__products') }}

),

final as (

    select
        product_code,
        product_name,
        product_family,
        product_line
    from products

)

select * from final
