with

projects as (

    select * from {{ ref('stg_erp__projects') }}

),

final as (

    select
        project_code,
        entity_code,
        project_name,
        project_type,
        start_date,
        end_date
    from projects

)

select * from final
