{{ config(meta={"dagster": {"ref": {"name": "int_fx_period_rates"}}}) }}

-- Every (currency, period, rate type) the translation needs has a rate: for
-- each legal entity's functional currency and every fiscal period, an average
-- rate quoted on every calendar day of the period and a closing rate, both
-- positive. Fails with each missing or incomplete rate.
with

legal_entities as (

    select * from {{ ref('dim_legal_entity') }}

),

fiscal_periods as (

    select * from {{ ref('dim_fiscal_period') }}

),

period_rates as (

    select * from {{ ref('int_fx_period_rates') }}

),

rate_types as (

    select 'average' as rate_type
    union all
    select 'closing' as rate_type

),

needed as (

    select distinct
        legal_entities.currency_functional as currency_code,
        fiscal_periods.period_id,
        rate_types.rate_type
    from legal_entities
    cross join fiscal_periods
    cross join rate_types

)

select
    needed.currency_code,
    needed.period_id,
    needed.rate_type,
    period_rates.rate_to_group,
    period_rates.days_quoted,
    period_rates.days_in_period
from needed
left join period_rates
    on needed.currency_code = period_rates.currency_code
        and needed.period_id = period_rates.period_id
        and needed.rate_type = period_rates.rate_type
where period_rates.rate_to_group is null
    or period_rates.rate_to_group <= 0
    or period_rates.days_quoted <> period_rates.days_in_period
