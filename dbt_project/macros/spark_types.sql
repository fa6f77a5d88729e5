{#
    Contracts and unit-test fixtures name their types as DuckDB does (`varchar`,
    `timestamp with time zone`); Spark knows these as `string` and `timestamp`
    (its session time zone is UTC). Overrides dbt's `cast` on Spark only, so the
    same YAML serves both engines.
#}
{% macro spark__cast(field, type) %}
    {%- set spark_types = {
        'varchar': 'string',
        'text': 'string',
        'timestamp with time zone': 'timestamp',
        'timestamptz': 'timestamp',
    } -%}
    cast({{ field }} as {{ spark_types.get(type | trim | lower, type) }})
{%- endmacro %}
