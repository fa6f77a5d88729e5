{#
    When the raw layer is a Parquet lake (env FINSYNC_LAKE_URL, see ingest/lake.py),
    make every source table a relation over its folder of dlt load files, under the
    schema and name the sources already use (raw_erp.journal_items ...), so that no
    model changes with the lake. Run on-run-start; without a lake it does nothing and
    the sources are dlt's tables in the warehouse.
#}
{% macro lake_views() %}
    {%- set lake = env_var('FINSYNC_LAKE_URL', '') | trim -%}
    {%- if execute and lake -%}
        {%- set tables = [] -%}
        {%- for node in graph.sources.values() -%}
            {%- do tables.append((node.schema, node.identifier)) -%}
        {%- endfor -%}
        {%- for schema in tables | map('first') | unique | sort -%}
            {%- do run_query(adapter.dispatch('create_lake_schema')(schema)) -%}
        {%- endfor -%}
        {%- for schema, table in tables | sort -%}
            {%- set folder = lake.rstrip('/') ~ '/' ~ schema ~ '/' ~ table -%}
            {%- for statement in adapter.dispatch('lake_view_statements')(schema, table, folder) -%}
                {%- do run_query(statement) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}

{% macro default__create_lake_schema(schema) -%}
    create schema if not exists {{ schema }}
{%- endmacro %}

{% macro default__lake_view_statements(schema, table, folder) -%}
    {{ exceptions.raise_compiler_error("no Parquet lake reader for adapter " ~ adapter.type()) }}
{%- endmacro %}

{#- The view finsync's loads make too (ingest/lake.py, lake_view): files of several loads
    may differ by a column (schema evolution), matched by name; a rowid as a table has one
    (the file's place in the listing, the row's in its file), for the raw contracts. -#}
{% macro duckdb__lake_view_statements(schema, table, folder) -%}
    {{ return([
        "create or replace view " ~ schema ~ "." ~ table ~ " as"
        ~ " select (file_index::bigint << 40) + file_row_number as rowid,"
        ~ " * exclude (file_row_number)"
        ~ " from read_parquet('" ~ folder ~ "/*.parquet', union_by_name = true, file_row_number = true)",
    ]) }}
{%- endmacro %}

{#- An external table (dropping it leaves the files), re-created so new files and columns show. -#}
{% macro spark__lake_view_statements(schema, table, folder) -%}
    {{ return([
        "drop table if exists " ~ schema ~ "." ~ table,
        "create table " ~ schema ~ "." ~ table ~ " using parquet options (mergeSchema 'true')"
        ~ " location '" ~ folder ~ "'",
    ]) }}
{%- endmacro %}
