{#
    A pseudonymous key for a personal identifier: HMAC-SHA256 of the value under a
    secret key, so that a worker can be joined across tables without the warehouse
    holding the id, and nobody without the key can recompute it from an id.

    The key never appears in SQL: on DuckDB the profile's plugin
    `orchestration.pseudonym_key` sets HMAC's padded keys as session variables on
    dbt's connections. Models that call this macro must be tables: a view would
    evaluate it in its reader's session, which has no key (and fails loudly here).
#}
{% macro pseudonymize(column) %}
    {{ return(adapter.dispatch('pseudonymize')(column)) }}
{% endmacro %}

{% macro duckdb__pseudonymize(column) %}
    {%- set inner = "getvariable('finsync_pseudonym_inner')" -%}
    {%- set outer = "getvariable('finsync_pseudonym_outer')" -%}
    case
        when {{ inner }} is null or {{ outer }} is null
            then error('pseudonym key not set: run dbt with the finsync profile (plugin orchestration.pseudonym_key)')
        else sha256(
            unhex({{ outer }})
            || unhex(sha256(unhex({{ inner }}) || encode(cast({{ column }} as varchar))))
        )
    end
{% endmacro %}

{% macro default__pseudonymize(column) %}
    {{ exceptions.raise_compiler_error(
        "pseudonymize() has no way to receive the pseudonym key on adapter " ~ adapter.type()
    ) }}
{% endmacro %}

{#
    On Spark the padded keys come from the driver's environment (FINSYNC_PSEUDONYM_INNER
    and _OUTER, hex: orchestration.pseudonym_key.hmac_pads) through Spark's variable
    substitution, so the SQL text holds only placeholders; same HMAC, same keys as DuckDB.
#}
{% macro spark__pseudonymize(column) %}
    {%- set inner = "unhex('${env:FINSYNC_PSEUDONYM_INNER}')" -%}
    {%- set outer = "unhex('${env:FINSYNC_PSEUDONYM_OUTER}')" -%}
    case
        when {{ inner }} is null or {{ outer }} is null
            then raise_error('pseudonym key not set: export FINSYNC_PSEUDONYM_INNER and _OUTER')
        else sha2(
            concat({{ outer }}, unhex(sha2(concat({{ inner }}, encode(cast({{ column }} as string), 'UTF-8')), 256))),
            256
        )
    end
{% endmacro %}
