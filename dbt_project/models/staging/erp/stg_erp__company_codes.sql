with

source as (

    select * from {{ source('erp', 'company_codes') }}

),

deduplicated as (

    {{ deduplicate('source', 'company_code', 'last_change_date_time desc, _dlt_load_id desc') }}

),

renamed as (

    select

        ---------- ids
        company_code as entity_code,
        consolidation_parent as consolidation_parent_code,

        ---------- text
        company_code_name as entity_name,
        country as country_code,
        currency as currency_functional,
        region,
        accounting_system,

        ---------- timestamps
        last_change_date_time as last_changed_at

    from deduplicated

)

select * from renamed
