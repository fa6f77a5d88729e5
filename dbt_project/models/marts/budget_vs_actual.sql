-- One row per legal entity, P&L account, cost center and fiscal period that
-- has an actual, a budget or a forecast amount: actual (GL) against the latest
-- approved budget and the latest approved forecast of the fiscal year, in
-- functional currency, signed like the GL (expense positive, revenue
-- negative), for the period and year to date. Cost center NONE is the planning
-- tool's member for "no cost center" (revenue, cost of sales, tax). The cost
-- center's owner is the one it had at the end of the period (snapshot history).
with

journal_lines as (

    select * from {{ ref('fct_gl_journal_lines') }}

),

accounts as (

    select * from {{ ref('dim_account') }}

),

plan_lines as (

    select * from {{ ref('fct_plan') }}
    where is_reporting_version

),

fiscal_periods as (

    select * from {{ ref('dim_fiscal_period') }}

),

legal_entities as (

    select * from {{ ref('dim_legal_entity') }}

),

cost_center_history as (

    select * from {{ ref('dim_cost_center_history') }}

),

actuals as (

    select
        journal_lines.entity_code,
        journal_lines.account_code,
        coalesce(journal_lines.cost_center_code, 'NONE') as cost_center_code,
        journal_lines.period_id,
        sum(journal_lines.amount_functional) as actual_functional,
        0 as budget_functional,
        0 as forecast_functional
    from journal_lines
    inner join accounts
        on journal_lines.account_code = accounts.account_code
    where accounts.statement = 'PL'
    group by
        journal_lines.entity_code,
        journal_lines.account_code,
        coalesce(journal_lines.cost_center_code, 'NONE'),
        journal_lines.period_id

),

plans as (

    select
        entity_code,
        account_code,
        cost_center_code,
        period_id,
        0 as actual_functional,
        case when plan_version_type = 'Budget' then amount_functional else 0 end as budget_functional,
        case when plan_version_type = 'Forecast' then amount_functional else 0 end as forecast_functional
    from plan_lines

),

versions as (

    select
        fiscal_year,
        max(case when plan_version_type = 'Budget' then plan_version_code end) as budget_version_code,
        max(case when plan_version_type = 'Forecast' then plan_version_code end) as forecast_version_code
    from plan_lines
    group by fiscal_year

),

unioned as (

    select * from actuals
    union all
    select * from plans

),

by_key as (

    select
        entity_code,
        account_code,
        cost_center_code,
        period_id,
        sum(actual_functional) as actual_functional,
        sum(budget_functional) as budget_functional,
        sum(forecast_functional) as forecast_functional
    from unioned
    group by
        entity_code,
        account_code,
        cost_center_code,
        period_id

),

year_to_date as (

    select
        by_key.*,
        fiscal_periods.fiscal_year,
        fiscal_periods.fiscal_period,
        fiscal_periods.period_end_date,
        sum(by_key.actual_functional) over (
            partition by by_key.entity_code, by_key.account_code, by_key.cost_center_code, fiscal_periods.fiscal_year
            order by fiscal_periods.period_index
            rows between unbounded preceding and current row
        ) as actual_ytd_functional,
        sum(by_key.budget_functional) over (
            partition by by_key.entity_code, by_key.account_code, by_key.cost_center_code, fiscal_periods.fiscal_year
            order by fiscal_periods.period_index
            rows between unbounded preceding and current row
        ) as budget_ytd_functional,
        sum(by_key.forecast_functional) over (
            partition by by_key.entity_code, by_key.account_code, by_key.cost_center_code, fiscal_periods.fiscal_year
            order by fiscal_periods.period_index
            rows between unbounded preceding and current row
        ) as forecast_ytd_functional
    from by_key
    inner join fiscal_periods
        on by_key.period_id = fiscal_periods.period_id

),

final as (

    select

        ---------- ids
        year_to_date.entity_code,
        year_to_date.account_code,
        year_to_date.cost_center_code,
        year_to_date.period_id,
        versions.budget_version_code,
        versions.forecast_version_code,

        ---------- cost center as it was at the end of the period
        cost_center_history.person_responsible as cost_center_owner,

        ---------- fiscal calendar
        year_to_date.fiscal_year,
        year_to_date.fiscal_period,

        ---------- period, functional currency
        legal_entities.currency_functional,
        cast(year_to_date.actual_functional as decimal(18, 2)) as amount_actual_functional,
        cast(year_to_date.budget_functional as decimal(18, 2)) as amount_budget_functional,
        cast(year_to_date.forecast_functional as decimal(18, 2)) as amount_forecast_functional,
        cast(year_to_date.actual_functional - year_to_date.budget_functional as decimal(18, 2))
            as variance_budget_functional,
        cast(
            case
                when year_to_date.budget_functional <> 0
                    then 100.0 * (year_to_date.actual_functional - year_to_date.budget_functional)
                        / abs(year_to_date.budget_functional)
            end as decimal(18, 2)
        ) as variance_budget_percent,
        cast(year_to_date.actual_functional - year_to_date.forecast_functional as decimal(18, 2))
            as variance_forecast_functional,
        cast(
            case
                when year_to_date.forecast_functional <> 0
                    then 100.0 * (year_to_date.actual_functional - year_to_date.forecast_functional)
                        / abs(year_to_date.forecast_functional)
            end as decimal(18, 2)
        ) as variance_forecast_percent,

        ---------- year to date, functional currency
        cast(year_to_date.actual_ytd_functional as decimal(18, 2)) as amount_actual_ytd_functional,
        cast(year_to_date.budget_ytd_functional as decimal(18, 2)) as amount_budget_ytd_functional,
        cast(year_to_date.forecast_ytd_functional as decimal(18, 2)) as amount_forecast_ytd_functional,
        cast(year_to_date.actual_ytd_functional - year_to_date.budget_ytd_functional as decimal(18, 2))
            as variance_budget_ytd_functional,
        cast(
            case
                when year_to_date.budget_ytd_functional <> 0
                    then 100.0 * (year_to_date.actual_ytd_functional - year_to_date.budget_ytd_functional)
                        / abs(year_to_date.budget_ytd_functional)
            end as decimal(18, 2)
        ) as variance_budget_ytd_percent,
        cast(year_to_date.actual_ytd_functional - year_to_date.forecast_ytd_functional as decimal(18, 2))
            as variance_forecast_ytd_functional

    from year_to_date
    left join versions
        on year_to_date.fiscal_year = versions.fiscal_year
    left join legal_entities
        on year_to_date.entity_code = legal_entities.entity_code
    left join cost_center_history
        on year_to_date.cost_center_code = cost_center_history.cost_center_code
            and year_to_date.period_end_date >= cost_center_history.valid_from_date
            and year_to_date.period_end_date < cost_center_history.valid_to_date

)

select * from final
