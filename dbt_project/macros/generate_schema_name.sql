{#
    Use a node's custom schema as-is (`staging`, `marts`, `seeds` ...) instead of
    dbt's default `<target_schema>_<custom_schema>`, so that the warehouse layers
    have the names the architecture, the exports and the BI tools expect.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
