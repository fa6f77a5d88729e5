-- The fiscal calendar: every period of every fiscal year in which the group ERP
-- has posted. Fiscal year N starts in month var('fiscal_year_start_month') of
-- calendar year N-1 (of N when it starts in January) and is named after the year
-- it ends in. Built as a month spine from the first to the last fiscal year.
{%- set start_month = var('fiscal_year_start_month') | int %}
{%- set string = dbt.type_string() %}

with

journal_items as (

    select posting_date from {{ ref('stg_erp__journal_items') }}
    where posting_date is not null

),

posted_months as (

    select
        min(cast({{ dbt.date_trunc('month', 'posting_date') }} as date)) as first_month,
        max(cast({{ dbt.date_trunc('month', 'posting_date') }} as date)) as last_month
    from journal_items

),

bounds as (

    -- first day of the first fiscal year, first day after the last one
    select
        cast({{ dbt.dateadd(
            'month',
            '-((extract(month from first_month) - ' ~ start_month ~ ' + 12) % 12)',
            'first_month'
        ) }} as date) as calendar_start,
        cast({{ dbt.dateadd(
            'month',
            '12 - ((extract(month from last_month) - ' ~ start_month ~ ' + 12) % 12)',
            'last_month'
        ) }} as date) as calendar_end
    from posted_months

),

-- 2^11 months: up to 170 fiscal years
month_numbers as (

    {{ dbt.generate_series(2 ** 11) }}

),

months as (

    select
        cast({{ dbt.dateadd('month', 'month_numbers.generated_number - 1', 'bounds.calendar_start') }} as date)
            as period_start_date,
        cast(month_numbers.generated_number as integer) as period_index
    from month_numbers
    cross join bounds
    where month_numbers.generated_number
        <= {{ dbt.datediff('bounds.calendar_start', 'bounds.calendar_end', 'month') }}

),

numbered as (

    select
        period_index,
        period_start_date,
        cast(extract(year from period_start_date) as integer) as calendar_year,
        cast(extract(month from period_start_date) as integer) as calendar_month,
        cast(extract(year from period_start_date) as integer)
        {%- if start_month > 1 %}
            + case when extract(month from period_start_date) >= {{ start_month }} then 1 else 0 end
        {%- endif %} as fiscal_year,
        cast((extract(month from period_start_date) - {{ start_month }} + 12) % 12 + 1 as integer)
            as fiscal_period
    from months

),

final as (

    select

        ---------- ids
        {{ dbt.concat([
            "cast(fiscal_year as " ~ string ~ ")",
            "'-P'",
            "case when fiscal_period < 10 then '0' else '' end",
            "cast(fiscal_period as " ~ string ~ ")",
        ]) }} as period_id,

        ---------- fiscal calendar
        fiscal_year,
        fiscal_period,
        period_index,
        fiscal_period = 1 as is_fiscal_year_start,

        ---------- calendar
        calendar_year,
        calendar_month,

        ---------- dates
        period_start_date,
        cast({{ dbt.last_day('period_start_date', 'month') }} as date) as period_end_date,
        cast({{ dbt.dateadd('month', '1 - fiscal_period', 'period_start_date') }} as date)
            as fiscal_year_start_date,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', '13 - fiscal_period', 'period_start_date')) }} as date)
            as fiscal_year_end_date

    from numbered

)

select * from final
