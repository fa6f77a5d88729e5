-- One row per currency, fiscal period and rate type: the rates that translate
-- one unit of the currency into the group currency for a period.
--   average: mean of the daily rates over every calendar day of the period
--            (income and expense);
--   closing: the daily rate of the period's last day (assets and liabilities).
-- Equity is translated at historical (posting-date) rates, which are the daily
-- rates of int_fx_rates themselves.
with

daily_rates as (

    select * from {{ ref('int_fx_rates') }}

),

fiscal_periods as (

    select * from {{ ref('dim_fiscal_period') }}

),

by_period as (

    select
        daily_rates.currency_code,
        fiscal_periods.period_id,
        fiscal_periods.period_end_date,
        count(*) as days_quoted,
        1 + {{ dbt.datediff('fiscal_periods.period_start_date', 'fiscal_periods.period_end_date', 'day') }}
            as days_in_period,
        -- the sum of decimals is exact; one division, then a fixed scale, so
        -- that any engine (or a reviewer) gets the same average
        cast(sum(daily_rates.rate_to_group) / count(*) as decimal(38, 12)) as average_rate
    from daily_rates
    inner join fiscal_periods
        on daily_rates.rate_date >= fiscal_periods.period_start_date
            and daily_rates.rate_date <= fiscal_periods.period_end_date
    group by
        daily_rates.currency_code,
        fiscal_periods.period_id,
        fiscal_periods.period_start_date,
        fiscal_periods.period_end_date

),

average_rates as (

    select
        currency_code,
        period_id,
        'average' as rate_type,
        average_rate as rate_to_group,
        days_quoted,
        days_in_period
    from by_period

),

closing_rates as (

    select
        by_period.currency_code,
        by_period.period_id,
        'closing' as rate_type,
        daily_rates.rate_to_group,
        by_period.days_quoted,
        by_period.days_in_period
    from by_period
    inner join daily_rates
        on by_period.currency_code = daily_rates.currency_code
            and by_period.period_end_date = daily_rates.rate_date

),

final as (

    select * from average_rates
    union all
    select * from closing_rates

)

select * from final
