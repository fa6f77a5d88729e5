-- One row per plan version, legal entity, P&L account, cost center and fiscal
-- period: every budget and forecast version the planning tool sent back, with
-- its status and submission time. The version is part of the key, so a new
-- forecast never overwrites an older one. is_reporting_version marks what
-- feeds budget_vs_actual: per fiscal year and version type, the latest
-- approved version; drafts and submitted versions never do.
with

plan_lines as (

    select * from {{ ref('int_plan_lines') }}

),

plan_versions as (

    select * from {{ ref('stg_fpa__plan_versions') }}

),

approved as (

    select
        plan_version_code,
        row_number() over (
            partition by fiscal_year, plan_version_type
            order by submitted_at desc, plan_version_code desc
        ) as recency
    from plan_versions
    where plan_version_status = 'Approved'

),

final as (

    select

        ---------- ids
        plan_lines.plan_version_code,
        plan_lines.entity_code,
        plan_lines.account_code,
        plan_lines.cost_center_code,
        plan_lines.period_id,

        ---------- version
        plan_versions.plan_version_name,
        plan_versions.plan_version_type,
        lower(plan_versions.plan_version_status) as plan_version_status,
        plan_versions.fiscal_year as plan_version_fiscal_year,
        coalesce(approved.recency = 1, false) as is_reporting_version,

        ---------- fiscal calendar
        plan_lines.fiscal_year,
        plan_lines.fiscal_period,

        ---------- numerics
        plan_lines.currency_functional,
        plan_lines.amount_functional,

        ---------- timestamps
        plan_versions.submitted_at

    from plan_lines
    left join plan_versions
        on plan_lines.plan_version_code = plan_versions.plan_version_code
    left join approved
        on plan_lines.plan_version_code = approved.plan_version_code

)

select * from final
