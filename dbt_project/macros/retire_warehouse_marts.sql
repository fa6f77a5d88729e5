{#
    On DuckDB the marts live in a file of their own (marts_db, profiles.yml). A
    warehouse built before kept them in its own `marts` schema: stale from this run
    on, a second copy of every mart on disk, and listed beside the live ones by
    anything that lists the schema's tables (information_schema): drop it. Run
    on-run-start; once gone it does nothing.
#}
{% macro retire_warehouse_marts() %}
    {%- if execute and target.type == 'duckdb' -%}
        {%- do run_query('drop schema if exists "' ~ target.database ~ '".marts cascade') -%}
    {%- endif -%}
{% endmacro %}
