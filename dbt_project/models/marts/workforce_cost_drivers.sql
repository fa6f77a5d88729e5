-- One row per legal entity, reporting unit and fiscal period with payroll: the
-- workforce drivers FP&A plans with, from the payroll results (pay period end
-- decides the period). Headcount counts workers paid in the period, by their
-- pseudonymous employee_key; cost is gross earnings plus employer taxes plus
-- benefits, in functional currency.
--
-- No one's pay can be read off a row: a cost center with fewer paid workers than
-- var('workforce_min_group_size') in a period is folded into its hierarchy node
-- (with the entity's other small cost centers under that node), a node still too
-- small into the hierarchy root, and a root still too small is suppressed (row
-- kept, numbers withheld). Folding keeps every total.
{%- set min_group_size = var('workforce_min_group_size') %}

with

payroll_results as (

    select * from {{ ref('stg_payroll__payroll_results') }}

),

fiscal_periods as (

    select * from {{ ref('dim_fiscal_period') }}

),

cost_centers as (

    select * from {{ ref('dim_cost_center') }}

),

results as (

    select
        payroll_results.employee_key,
        payroll_results.entity_code,
        payroll_results.cost_center_code,
        coalesce(cost_centers.node_code, 'UNASSIGNED') as node_code,
        coalesce(cost_centers.parent_node_code, cost_centers.node_code, 'UNASSIGNED')
            as root_node_code,
        fiscal_periods.period_id,
        fiscal_periods.fiscal_year,
        fiscal_periods.fiscal_period,
        payroll_results.currency_functional,
        payroll_results.gross_earnings_functional,
        payroll_results.employer_taxes_functional,
        payroll_results.benefits_functional
    from payroll_results
    inner join fiscal_periods
        on payroll_results.pay_period_end_date >= fiscal_periods.period_start_date
            and payroll_results.pay_period_end_date <= fiscal_periods.period_end_date
    left join cost_centers
        on payroll_results.cost_center_code = cost_centers.cost_center_code

),

cost_center_sizes as (

    select
        entity_code,
        cost_center_code,
        period_id,
        count(distinct employee_key) as workers
    from results
    group by entity_code, cost_center_code, period_id

),

-- each level counts only the workers not already reported at a level below
node_sizes as (

    select
        results.entity_code,
        results.node_code,
        results.period_id,
        count(distinct results.employee_key) as workers
    from results
    inner join cost_center_sizes
        on results.entity_code = cost_center_sizes.entity_code
            and results.cost_center_code = cost_center_sizes.cost_center_code
            and results.period_id = cost_center_sizes.period_id
    where cost_center_sizes.workers < {{ min_group_size }}
    group by results.entity_code, results.node_code, results.period_id

),

root_sizes as (

    select
        results.entity_code,
        results.root_node_code,
        results.period_id,
        count(distinct results.employee_key) as workers
    from results
    inner join cost_center_sizes
        on results.entity_code = cost_center_sizes.entity_code
            and results.cost_center_code = cost_center_sizes.cost_center_code
            and results.period_id = cost_center_sizes.period_id
    inner join node_sizes
        on results.entity_code = node_sizes.entity_code
            and results.node_code = node_sizes.node_code
            and results.period_id = node_sizes.period_id
    where cost_center_sizes.workers < {{ min_group_size }}
        and node_sizes.workers < {{ min_group_size }}
    group by results.entity_code, results.root_node_code, results.period_id

),

assigned as (

    select
        results.*,
        case
            when cost_center_sizes.workers >= {{ min_group_size }} then 'cost_center'
            when node_sizes.workers >= {{ min_group_size }} then 'node'
            else 'root'
        end as reporting_level,
        coalesce(root_sizes.workers < {{ min_group_size }}, false) as is_suppressed
    from results
    inner join cost_center_sizes
        on results.entity_code = cost_center_sizes.entity_code
            and results.cost_center_code = cost_center_sizes.cost_center_code
            and results.period_id = cost_center_sizes.period_id
    left join node_sizes
        on results.entity_code = node_sizes.entity_code
            and results.node_code = node_sizes.node_code
            and results.period_id = node_sizes.period_id
    left join root_sizes
        on results.entity_code = root_sizes.entity_code
            and results.root_node_code = root_sizes.root_node_code
            and results.period_id = root_sizes.period_id
            and cost_center_sizes.workers < {{ min_group_size }}
            and node_sizes.workers < {{ min_group_size }}

),

placed as (

    select
        *,
        case reporting_level
            when 'cost_center' then cost_center_code
            when 'node' then node_code
            else root_node_code
        end as reporting_unit_code
    from assigned

),

by_reporting_unit as (

    select
        entity_code,
        reporting_unit_code as cost_center_code,
        reporting_level,
        is_suppressed,
        period_id,
        fiscal_year,
        fiscal_period,
        currency_functional,
        count(distinct employee_key) as headcount,
        sum(gross_earnings_functional) as gross_earnings_functional,
        sum(employer_taxes_functional) as employer_taxes_functional,
        sum(benefits_functional) as benefits_functional
    from placed
    group by
        entity_code,
        reporting_unit_code,
        reporting_level,
        is_suppressed,
        period_id,
        fiscal_year,
        fiscal_period,
        currency_functional

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

        ---------- disclosure control
        reporting_level,
        is_suppressed,

        ---------- drivers
        cast(case when not is_suppressed then headcount end as integer) as headcount,
        currency_functional,
        cast(case when not is_suppressed then gross_earnings_functional end as decimal(18, 2))
            as gross_earnings_functional,
        cast(case when not is_suppressed then employer_taxes_functional end as decimal(18, 2))
            as employer_taxes_functional,
        cast(case when not is_suppressed then benefits_functional end as decimal(18, 2))
            as benefits_functional,
        cast(
            case
                when not is_suppressed
                    then gross_earnings_functional + employer_taxes_functional + benefits_functional
            end
            as decimal(18, 2)
        ) as workforce_cost_functional,
        cast(
            case
                when not is_suppressed
                    then (gross_earnings_functional + employer_taxes_functional + benefits_functional)
                        / headcount
            end
            as decimal(18, 2)
        ) as cost_per_head_functional

    from by_reporting_unit

)

select * from final
