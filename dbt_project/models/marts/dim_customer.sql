-- The CRM's accounts as the group's customers.
with

accounts as (

    select * from {{ ref('stg_crm__accounts') }}

),

final as (

    select

        ---------- ids
        customer_id,
        entity_code,

        ---------- text
        customer_name,
        billing_country_code,
        industry,

        ---------- timestamps
        created_at

    from accounts

)

select * from final
