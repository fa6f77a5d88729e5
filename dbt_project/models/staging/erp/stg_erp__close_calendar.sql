with

source as (

    select * from {{ source('erp', 'close_calendar') }}

),

deduplicated as (

    {{ deduplicate(
        'source',
        'company_code, fiscal_year, fiscal_period, milestone',
        'last_change_date_time desc, _dlt_load_id desc'
    ) }}

),

renamed as (

    select

        ---------- ids
        company_code as entity_code,
        {{ dbt.concat([
            "cast(fiscal_year as " ~ dbt.type_string() ~ ")",
            "'-P'",
            "lpad(cast(fiscal_period as " ~ dbt.type_string() ~ "), 2, '0')",
        ]) }} as period_id,
        cast(fiscal_year as integer) as fiscal_year,
        cast(fiscal_period as integer) as fiscal_period,
        milestone,

        ---------- plan
        cast(working_day as integer) as working_day,
        cast(planned_date as date) as planned_date

    from deduplicated

)

select * from renamed
