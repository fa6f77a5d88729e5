with

source as (

    select * from {{ source('regional_erp', 'accounts') }}

),

deduplicated as (

    {{ deduplicate('source', 'conta', '_dlt_load_id desc') }}

),

renamed as (

    select

        ---------- ids
        conta as local_account_code,

        ---------- text
        descricao as local_account_name,
        natureza as normal_balance

    from deduplicated

)

select * from renamed
