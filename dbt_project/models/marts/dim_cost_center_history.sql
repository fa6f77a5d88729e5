-- Every version of every cost center (snapshot snap_erp__cost_centers) with the
-- span it was valid for, so that a past period reports the owner and hierarchy
-- it had then. The first version of a cost center is taken as valid since the
-- beginning: the history starts with the first snapshot.
with

versions as (

    select * from {{ ref('snap_erp__cost_centers') }}

),

nodes as (

    select * from {{ ref('stg_erp__cost_center_nodes') }}

),

ordered as (

    select
        *,
        row_number() over (partition by cost_center_code order by dbt_valid_from) as version_number
    from versions

),

final as (

    select

        ---------- ids
        ordered.cost_center_code,
        cast(ordered.version_number as integer) as version_number,
        ordered.entity_code,
        ordered.node_code,
        nodes.parent_node_code,

        ---------- text
        ordered.cost_center_name,
        nodes.node_name,
        ordered.person_responsible,

        ---------- validity
        case
            when ordered.version_number = 1 then cast('1900-01-01' as date)
            else cast(ordered.dbt_valid_from as date)
        end as valid_from_date,
        coalesce(cast(ordered.dbt_valid_to as date), cast('9999-12-31' as date)) as valid_to_date,
        ordered.dbt_valid_to is null as is_current

    from ordered
    left join nodes
        on ordered.node_code = nodes.node_code

)

select * from final
