with

source as (

    select * from {{ source('erp', 'cost_center_nodes') }}

),

deduplicated as (

    {{ deduplicate('source', 'node', '_dlt_load_id desc') }}

),

renamed as (

    select

        ---------- ids
        node as node_code,
        parent_node as parent_node_code,

        ---------- text
        node_name,

        ---------- numerics
        cast(level as integer) as node_level

    from deduplicated

)

select * from renamed
