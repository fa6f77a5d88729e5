{#
    A readable natural key of a source row: `<system>|<col1>|<col2>...`, each
    column cast to text and nulls kept as empty strings so that a row with a
    missing key part still has a key (and can be quarantined under it).
#}
{% macro source_key(system, columns) %}
    {%- set parts = ["'" ~ system ~ "'"] -%}
    {%- for column in columns -%}
        {%- do parts.append("'|'") -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '')") -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{% endmacro %}
