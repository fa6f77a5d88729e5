with

source as (

    select * from {{ source('crm', 'opportunities') }}

),

deduplicated as (

    {{ deduplicate('source', 'id', 'last_modified_date desc, _dlt_load_id desc') }}

),

renamed as (

    select

        ---------- ids
        id as opportunity_id,
        account_id as customer_id,
        legal_entity_c as entity_code,

        ---------- text
        name as opportunity_name,
        product_family_c as product_family,
        stage_name,
        forecast_category_name as forecast_category,

        ---------- numerics
        currency_iso_code as currency_txn,
        cast(amount as decimal(18, 2)) as amount_txn,
        cast(probability as integer) as probability_percent,

        ---------- booleans
        cast(is_closed as boolean) as is_closed,
        cast(is_won as boolean) as is_won,

        ---------- dates
        cast(close_date as date) as close_date,

        ---------- timestamps
        created_date as created_at,
        last_modified_date as last_changed_at

    from deduplicated
    -- dlt deletes these rows from DuckDB; a Parquet lake appends them as the latest version
    where not coalesce(is_deleted, false)

)

select * from renamed
