with

source as (

    select * from {{ source('erp', 'close_milestone_events') }}

),

deduplicated as (

    {{ deduplicate(
        'source',
        'event_id',
        'last_change_date_time desc, _dlt_load_id desc'
    ) }}

),

renamed as (

    select

        ---------- ids
        event_id,
        company_code as entity_code,
        {{ dbt.concat([
            "cast(fiscal_year as " ~ dbt.type_string() ~ ")",
            "'-P'",
            "lpad(cast(fiscal_period as " ~ dbt.type_string() ~ "), 2, '0')",
        ]) }} as period_id,
        cast(fiscal_year as integer) as fiscal_year,
        cast(fiscal_period as integer) as fiscal_period,
        milestone,

        ---------- timestamps
        last_change_date_time as reached_at

    from deduplicated

)

select * from renamed
