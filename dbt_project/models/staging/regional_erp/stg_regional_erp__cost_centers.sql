with

source as (

    select * from {{ source('regional_erp', 'cost_centers') }}

),

deduplicated as (

    {{ deduplicate('source', 'centro_custo', '_dlt_load_id desc') }}

),

renamed as (

    select

        ---------- ids
        centro_custo as local_cost_center_code,

        ---------- text
        descricao as local_cost_center_name,
        responsavel as person_responsible

    from deduplicated

)

select * from renamed
