{#
    The time a snapshot stamps a version with when its source gives none (a hard
    delete), with its time zone: the type of the `updated_at` column (`last_changed_at`)
    that stamps every other version. dbt-duckdb's own is a timestamp without time zone,
    of which dbt warns on every snapshot ("doesn't match derived column 'updated_at'").
#}
{% macro duckdb__snapshot_get_time() -%}
    {{ current_timestamp() }}
{%- endmacro %}
