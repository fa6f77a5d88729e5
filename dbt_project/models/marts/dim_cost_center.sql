-- Group cost centers with their two-level hierarchy (function node under the
-- root), plus the member UNMAPPED for regional cost centers without a mapping.
with

cost_centers as (

    select * from {{ ref('stg_erp__cost_centers') }}

),

nodes as (

    select * from {{ ref('stg_erp__cost_center_nodes') }}

),

with_hierarchy as (

    select

        ---------- ids
        cost_centers.cost_center_code,
        cost_centers.entity_code,
        cost_centers.node_code,
        nodes.parent_node_code,

        ---------- text
        cost_centers.cost_center_name,
        nodes.node_name,
        parent_nodes.node_name as parent_node_name,
        cost_centers.person_responsible

    from cost_centers
    left join nodes
        on cost_centers.node_code = nodes.node_code
    left join nodes as parent_nodes
        on nodes.parent_node_code = parent_nodes.node_code

),

unmapped as (

    select
        'UNMAPPED' as cost_center_code,
        cast(null as {{ dbt.type_string() }}) as entity_code,
        cast(null as {{ dbt.type_string() }}) as node_code,
        cast(null as {{ dbt.type_string() }}) as parent_node_code,
        'Unmapped local cost center' as cost_center_name,
        cast(null as {{ dbt.type_string() }}) as node_name,
        cast(null as {{ dbt.type_string() }}) as parent_node_name,
        cast(null as {{ dbt.type_string() }}) as person_responsible

),

final as (

    select * from with_hierarchy
    union all
    select * from unmapped

)

select * from final
