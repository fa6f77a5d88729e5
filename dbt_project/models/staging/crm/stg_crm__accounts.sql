with

source as (

    select * from {{ source('crm', 'accounts') }}

),

deduplicated as (

    {{ deduplicate('source', 'id', 'last_modified_date desc, _dlt_load_id desc') }}

),

renamed as (

    select

        ---------- ids
        id as customer_id,
        legal_entity_c as entity_code,

        ---------- text
        name as customer_name,
        billing_country as billing_country_code,
        industry,

        ---------- timestamps
        created_date as created_at,
        last_modified_date as last_changed_at

    from deduplicated
    -- dlt deletes these rows from DuckDB; a Parquet lake appends them as the latest version
    where not coalesce(is_deleted, false)

)

select * from renamed
