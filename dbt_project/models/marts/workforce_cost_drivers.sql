-- One row per legal entity, cost center and fiscal period with payroll: the
-- workforce drivers FP&A plans with, from the payroll results (pay period end
-- decides the period). Headcount counts workers paid in the period, by their
-- pseudonymous employee_key; cost is gross earnings plus employer taxes plus
-- benefits, in functional currency.
with

payroll_results as (

    select * from {{ ref('stg_payroll__payroll_results') }}

),

fiscal_periods as (

    select * from {{ ref('dim_fiscal_period') }}

),

by_cost_center as (

    select
        payroll_results.entity_code,
        payroll_results.cost_center_code,
        fiscal_periods.period_id,
        fiscal_periods.fiscal_year,
        fiscal_periods.fiscal_period,
        payroll_results.currency_functional,
        count(distinct payroll_results.employee_key) as headcount,
        sum(payroll_results.gross_earnings_functional) as gross_earnings_functional,
        sum(payroll_results.employer_taxes_functional) as employer_taxes_functional,
        sum(payroll_results.benefits_functional) as benefits_functional
    from payroll_results
    inner join fiscal_periods
        on payroll_results.pay_period_end_date >= fiscal_periods.period_start_date
            and payroll_results.pay_period_end_date <= fiscal_periods.period_end_date
    group by
        payroll_results.entity_code,
        payroll_results.cost_center_code,
        fiscal_periods.period_id,
        fiscal_periods.fiscal_year,
        fiscal_periods.fiscal_period,
        payroll_results.currency_functional

),

final as (

    select

        ---------- ids
        entity_code,
        cost_center_code,
        period_id,

        ---------- fiscal calendar
        fiscal_year,
        fiscal_period,

        ---------- drivers
        cast(headcount as integer) as headcount,
        currency_functional,
        cast(gross_earnings_functional as decimal(18, 2)) as gross_earnings_functional,
        cast(employer_taxes_functional as decimal(18, 2)) as employer_taxes_functional,
        cast(benefits_functional as decimal(18, 2)) as benefits_functional,
        cast(gross_earnings_functional + employer_taxes_functional + benefits_functional as decimal(18, 2))
            as workforce_cost_functional,
        cast(
            (gross_earnings_functional + employer_taxes_functional + benefits_functional) / headcount
            as decimal(18, 2)
        ) as cost_per_head_functional

    from by_cost_center

)

select * from final
