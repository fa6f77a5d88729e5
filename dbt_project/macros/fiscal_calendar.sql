{#
    The fiscal year, period and period id of a date without the calendar table,
    for dates beyond the posted history (an opportunity's expected close date).
    Same rule as dim_fiscal_period: fiscal year N starts in month
    var('fiscal_year_start_month') of year N-1 and is named after the year it ends in.
#}
{% macro fiscal_year_of(date_column) -%}
    {%- set start_month = var('fiscal_year_start_month') | int -%}
    (cast(extract(year from {{ date_column }}) as integer)
    {%- if start_month > 1 %}
        + case when extract(month from {{ date_column }}) >= {{ start_month }} then 1 else 0 end
    {%- endif %})
{%- endmacro %}

{% macro fiscal_period_of(date_column) -%}
    {%- set start_month = var('fiscal_year_start_month') | int -%}
    cast((extract(month from {{ date_column }}) - {{ start_month }} + 12) % 12 + 1 as integer)
{%- endmacro %}

{% macro period_id_of(date_column) -%}
    {%- set string = dbt.type_string() -%}
    {{ dbt.concat([
        "cast(" ~ fiscal_year_of(date_column) ~ " as " ~ string ~ ")",
        "'-P'",
        "case when " ~ fiscal_period_of(date_column) ~ " < 10 then '0' else '' end",
        "cast(" ~ fiscal_period_of(date_column) ~ " as " ~ string ~ ")",
    ]) }}
{%- endmacro %}
