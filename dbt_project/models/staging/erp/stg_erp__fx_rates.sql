with

source as (

    select * from {{ source('erp', 'fx_rates') }}

),

deduplicated as (

    {{ deduplicate(
        'source',
        'exchange_rate_type, from_currency, to_currency, valid_from',
        '_dlt_load_id desc'
    ) }}

),

renamed as (

    select

        ---------- ids
        exchange_rate_type as rate_type,
        from_currency as currency_from,
        to_currency as currency_to,

        ---------- dates
        cast(valid_from as date) as valid_from,

        ---------- numerics
        cast(exchange_rate as decimal(18, 8)) as exchange_rate

    from deduplicated

)

select * from renamed
