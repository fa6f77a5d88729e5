-- One row per currency and calendar day: the rate that converts one unit of the
-- currency into the group currency. A published rate holds from its valid_from
-- until the next one (days without a publication keep the last rate); pairs
-- quoted the other way round (group currency -> currency) are inverted, a
-- direct quote wins over an inverted one.
{%- set group_currency = var('group_currency') %}

with

fx_rates as (

    select * from {{ ref('stg_erp__fx_rates') }}
    where rate_type = 'M'

),

quotes as (

    select
        currency_from as currency_code,
        valid_from,
        cast(exchange_rate as decimal(38, 12)) as rate_to_group,
        1 as quote_priority
    from fx_rates
    where currency_to = '{{ group_currency }}'
        and currency_from <> '{{ group_currency }}'
        and exchange_rate > 0

    union all

    select
        currency_to as currency_code,
        valid_from,
        cast(1 / cast(exchange_rate as decimal(38, 12)) as decimal(38, 12)) as rate_to_group,
        2 as quote_priority
    from fx_rates
    where currency_from = '{{ group_currency }}'
        and currency_to <> '{{ group_currency }}'
        and exchange_rate > 0

),

best_quotes as (

    {{ deduplicate('quotes', 'currency_code, valid_from', 'quote_priority') }}

),

validity as (

    select
        currency_code,
        valid_from,
        lead(valid_from) over (
            partition by currency_code
            order by valid_from
        ) as valid_until,
        rate_to_group
    from best_quotes

),

bounds as (

    select
        min(valid_from) as first_day,
        max(valid_from) as last_day
    from fx_rates

),

-- 2^14 days: enough for 44 years of daily rates
day_numbers as (

    {{ dbt.generate_series(2 ** 14) }}

),

days as (

    select
        cast({{ dbt.dateadd('day', 'day_numbers.generated_number - 1', 'bounds.first_day') }} as date) as rate_date
    from day_numbers
    cross join bounds
    where day_numbers.generated_number - 1
        <= {{ dbt.datediff('bounds.first_day', 'bounds.last_day', 'day') }}

),

daily as (

    select
        validity.currency_code,
        days.rate_date,
        validity.rate_to_group
    from validity
    inner join days
        on validity.valid_from <= days.rate_date
            and (validity.valid_until is null or validity.valid_until > days.rate_date)

),

group_currency as (

    select
        '{{ group_currency }}' as currency_code,
        days.rate_date,
        cast(1 as decimal(38, 12)) as rate_to_group
    from days

),

final as (

    select * from daily
    union all
    select * from group_currency

)

select * from final
