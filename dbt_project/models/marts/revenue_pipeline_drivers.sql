-- One row per legal entity, expected close period (the fiscal period of the
-- opportunity's close date), product family and currency: the open CRM
-- pipeline FP&A forecasts revenue from, unweighted and weighted by each
-- opportunity's probability, in the opportunities' currency.
with

opportunities as (

    select * from {{ ref('stg_crm__opportunities') }}

),

open_opportunities as (

    select
        *,
        {{ period_id_of('close_date') }} as period_id,
        {{ fiscal_year_of('close_date') }} as fiscal_year,
        {{ fiscal_period_of('close_date') }} as fiscal_period
    from opportunities
    where not is_closed

),

by_period as (

    select
        open_opportunities.entity_code,
        open_opportunities.period_id,
        open_opportunities.fiscal_year,
        open_opportunities.fiscal_period,
        open_opportunities.product_family,
        open_opportunities.currency_txn,
        count(*) as open_opportunities,
        sum(open_opportunities.amount_txn) as pipeline_txn,
        -- times 0.01, not / 100.0: decimal division is a double on DuckDB (a cent off at .xx5),
        -- multiplication stays exact decimal on every engine
        sum(open_opportunities.amount_txn * open_opportunities.probability_percent * 0.01) as weighted_pipeline_txn,
        sum(case when open_opportunities.forecast_category = 'Commit' then open_opportunities.amount_txn else 0 end)
            as commit_txn
    from open_opportunities
    group by
        open_opportunities.entity_code,
        open_opportunities.period_id,
        open_opportunities.fiscal_year,
        open_opportunities.fiscal_period,
        open_opportunities.product_family,
        open_opportunities.currency_txn

),

final as (

    select

        ---------- ids
        entity_code,
        period_id,
        product_family,
        currency_txn,

        ---------- fiscal calendar
        fiscal_year,
        fiscal_period,

        ---------- drivers
        cast(open_opportunities as integer) as open_opportunities,
        cast(pipeline_txn as decimal(18, 2)) as amount_pipeline_txn,
        cast(weighted_pipeline_txn as decimal(18, 2)) as amount_weighted_pipeline_txn,
        cast(commit_txn as decimal(18, 2)) as amount_commit_txn

    from by_period

)

select * from final
