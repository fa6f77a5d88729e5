{{ config(severity='error', meta={"dagster": {"ref": {"name": "int_regional_journal_lines_mapped"}}}) }}
{#-
    The owner of each mapping seed is its `meta.owner` in seeds/_seeds.yml: the
    person or team who fixes a gap by adding a row to the seed.
-#}
{%- set owners = {} -%}
{%- if execute -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'seed' -%}
        {%- do owners.update({node.name: node.config.meta.get('owner', 'unowned')}) -%}
    {%- endfor -%}
{%- endif -%}

-- A local code of the regional ERP that has postings but no row in its mapping
-- seed is booked to the member UNMAPPED (and counted in every total), and this
-- check fails with one row per such code, naming the seed to edit, its owner,
-- and how much is posted to it.
with

journal_lines as (

    select * from {{ ref('int_regional_journal_lines_mapped') }}

),

unmapped as (

    select
        'map_regional_companies' as mapping_seed,
        local_company_code as local_code,
        amount_functional
    from journal_lines
    where entity_code = 'UNMAPPED'

    union all

    select
        'map_regional_accounts' as mapping_seed,
        local_account_code as local_code,
        amount_functional
    from journal_lines
    where account_code = 'UNMAPPED'

    union all

    select
        'map_regional_cost_centers' as mapping_seed,
        local_cost_center_code as local_code,
        amount_functional
    from journal_lines
    where cost_center_code = 'UNMAPPED'

),

final as (

    select
        mapping_seed,
        local_code,
        case mapping_seed
            {%- for seed, owner in owners.items() %}
                when '{{ seed }}' then '{{ owner }}'
            {%- endfor %}
            else 'unowned'
        end as owner,
        count(*) as posted_lines,
        sum(amount_functional) as posted_amount_functional
    from unmapped
    group by
        mapping_seed,
        local_code

)

select * from final
