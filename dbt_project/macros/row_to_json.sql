{#
    The whole row of `relation_alias` as JSON text, for quarantine payloads.
#}
{% macro row_to_json(relation_alias) %}
    {{ return(adapter.dispatch('row_to_json')(relation_alias)) }}
{% endmacro %}

{% macro duckdb__row_to_json(relation_alias) %}
    cast(to_json({{ relation_alias }}) as {{ dbt.type_string() }})
{% endmacro %}

{% macro spark__row_to_json(relation_alias) %}
    to_json(struct({{ relation_alias }}.*))
{% endmacro %}

{% macro default__row_to_json(relation_alias) %}
    {{ exceptions.raise_compiler_error("row_to_json is not implemented for adapter " ~ adapter.type()) }}
{% endmacro %}
