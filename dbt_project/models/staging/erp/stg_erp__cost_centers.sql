with

source as (

    select * from {{ source('erp', 'cost_centers') }}

),

deduplicated as (

    {{ deduplicate('source', 'cost_center', 'last_change_date_time desc, _dlt_load_id desc') }}

),

renamed as (

    select

        ---------- ids
        cost_center as cost_center_code,
        company_code as entity_code,
        hierarchy_node as node_code,

        ---------- text
        cost_center_name,
        person_responsible,

        ---------- timestamps
        last_change_date_time as last_changed_at

    from deduplicated

)

select * from renamed
