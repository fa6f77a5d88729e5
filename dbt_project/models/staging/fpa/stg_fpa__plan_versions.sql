with

source as (

    select * from {{ source('fpa', 'plan_versions') }}

),

deduplicated as (

    {{ deduplicate('source', 'version', 'submitted_at desc nulls last, _dlt_load_id desc') }}

),

renamed as (

    select

        ---------- ids
        version as plan_version_code,

        ---------- text
        version_name as plan_version_name,
        version_type as plan_version_type,
        status as plan_version_status,

        ---------- numerics
        cast(fiscal_year as integer) as fiscal_year,

        ---------- timestamps
        submitted_at

    from deduplicated

)

select * from renamed
