-- One row per approved plan line in the GL's terms: the planning tool's time
-- member ("Apr 25") becomes a fiscal period, the list member NONE a missing
-- cost center stays NONE (the member budget_vs_actual uses for "no cost
-- center"). Only approved versions feed reporting: per fiscal year the latest
-- approved budget and the latest approved forecast.
with

plan_lines as (

    select * from {{ ref('stg_fpa__plan_lines') }}

),

plan_versions as (

    select * from {{ ref('stg_fpa__plan_versions') }}

),

fiscal_periods as (

    select * from {{ ref('dim_fiscal_period') }}

),

approved as (

    select
        plan_version_code,
        plan_version_type,
        fiscal_year,
        row_number() over (
            partition by fiscal_year, plan_version_type
            order by submitted_at desc, plan_version_code desc
        ) as recency
    from plan_versions
    where plan_version_status = 'Approved'

),

latest_approved as (

    select * from approved
    where recency = 1

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

final as (

    select

        ---------- ids
        parsed.plan_version_code,
        latest_approved.plan_version_type,
        parsed.entity_code,
        parsed.account_code,
        parsed.cost_center_code,
        fiscal_periods.period_id,

        ---------- fiscal calendar
        fiscal_periods.fiscal_year,
        fiscal_periods.fiscal_period,

        ---------- numerics
        parsed.currency_functional,
        parsed.amount_functional

    from parsed
    inner join latest_approved
        on parsed.plan_version_code = latest_approved.plan_version_code
    inner join fiscal_periods
        on parsed.calendar_year = fiscal_periods.calendar_year
            and parsed.calendar_month = fiscal_periods.calendar_month
            and latest_approved.fiscal_year = fiscal_periods.fiscal_year

)

select * from final
