{#
    A stable, non-reversible surrogate for a personal identifier: md5 of the value
    salted with FINSYNC_PII_KEY, so that a worker can be joined across tables
    without the warehouse holding the id itself. The default key is for the demo
    only; a real deployment sets its own secret.
#}
{% macro pseudonymize(column) %}
    {%- set salt = env_var('FINSYNC_PII_KEY', 'demo-only-key') -%}
    {{ dbt.hash(dbt.concat(["'" ~ dbt.escape_single_quotes(salt) ~ "'", "'|'", column])) }}
{% endmacro %}
