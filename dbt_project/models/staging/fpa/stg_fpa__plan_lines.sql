with

source as (

    select * from {{ source('fpa', 'plan_lines') }}

),

deduplicated as (

    {{ deduplicate('source', 'version, entity, account, cost_center, month', '_dlt_load_id desc') }}

),

renamed as (

    select

        ---------- ids
        version as plan_version_code,
        entity as entity_code,
        account as account_code,
        cost_center as cost_center_code,

        ---------- text
        -- Anaplan time member, e.g. "Apr 25"; mapped to fiscal periods downstream
        month as plan_month,

        ---------- numerics
        currency as currency_functional,
        cast(amount as decimal(18, 2)) as amount_functional

    from deduplicated

)

select * from renamed
