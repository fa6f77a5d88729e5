with

source as (

    select * from {{ source('erp', 'projects') }}

),

deduplicated as (

    {{ deduplicate('source', 'project', 'last_change_date_time desc, _dlt_load_id desc') }}

),

renamed as (

    select

        ---------- ids
        project as project_code,
        company_code as entity_code,

        ---------- text
        project_name,
        project_type,

        ---------- dates
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,

        ---------- timestamps
        last_change_date_time as last_changed_at

    from deduplicated

)

select * from renamed
