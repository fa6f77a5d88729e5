-- One row per plan line of every plan version (budget or forecast; draft,
-- submitted or approved) in the GL's terms: the planning tool's time member
-- ("Apr 25") becomes a fiscal period by the fiscal calendar rule, so that a
-- plan beyond the posted history keeps its lines; the list member NONE ("no
-- cost center") stays NONE, the member budget_vs_actual uses.
with

plan_lines as (

    select * from {{ ref('stg_fpa__plan_lines') }}

),

parsed as (

    select
        plan_lines.*,
        2000 + cast({{ dbt.right('plan_lines.plan_month', 2) }} as integer) as calendar_year,
        case lower(substring(plan_lines.plan_month, 1, 3))
            when 'jan' then 1 when 'feb' then 2 when 'mar' then 3
            when 'apr' then 4 when 'may' then 5 when 'jun' then 6
            when 'jul' then 7 when 'aug' then 8 when 'sep' then 9
            when 'oct' then 10 when 'nov' then 11 when 'dec' then 12
        end as calendar_month
    from plan_lines

),

dated as (

    select
        parsed.*,
        cast({{ dbt.concat([
            "cast(parsed.calendar_year as " ~ dbt.type_string() ~ ")",
            "'-'",
            "case when parsed.calendar_month < 10 then '0' else '' end",
            "cast(parsed.calendar_month as " ~ dbt.type_string() ~ ")",
            "'-01'",
        ]) }} as date) as month_start_date
    from parsed

),

final as (

    select

        ---------- ids
        plan_version_code,
        entity_code,
        account_code,
        cost_center_code,
        {{ period_id_of('month_start_date') }} as period_id,

        ---------- fiscal calendar
        {{ fiscal_year_of('month_start_date') }} as fiscal_year,
        {{ fiscal_period_of('month_start_date') }} as fiscal_period,

        ---------- numerics
        currency_functional,
        amount_functional

    from dated

)

select * from final
