with

company_codes as (

    select * from {{ ref('stg_erp__company_codes') }}

),

final as (

    select

        ---------- ids
        entity_code,
        consolidation_parent_code,

        ---------- text
        entity_name,
        country_code,
        currency_functional,
        region,
        accounting_system,

        ---------- booleans
        consolidation_parent_code is null as is_group_parent

    from company_codes

)

select * from final
