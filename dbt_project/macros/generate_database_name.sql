{#
    On DuckDB a node's custom database is the attached file it is written to (the
    marts: marts_db, profiles.yml). Spark has one catalog: every node stays in the
    target's.
#}
{% macro generate_database_name(custom_database_name=none, node=none) -%}
    {%- if target.type == 'duckdb' -%}
        {{ default__generate_database_name(custom_database_name, node) }}
    {%- else -%}
        {{ default__generate_database_name(none, node) }}
    {%- endif -%}
{%- endmacro %}
