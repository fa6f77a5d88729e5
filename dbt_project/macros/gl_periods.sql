{#
    The GL facts are incremental by fiscal period (delete+insert on period_id).
    A run rebuilds the periods whose lines changed; `--vars '{period: 2025-P03}'`
    rebuilds that one period whatever changed, which is how a backfill republishes
    a past period without touching the others.
#}

{# The period asked for with --vars, validated; none when the run is not a backfill. #}
{% macro gl_period() %}
    {%- set period = var('period', none) -%}
    {%- if period is none or period == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.match('^[0-9]{4}-P[0-9]{2}$', period | string) -%}
        {{ exceptions.raise_compiler_error(
            "var period must be a fiscal period id like 2025-P03, got '" ~ period ~ "'"
        ) }}
    {%- endif -%}
    {{ return(period | string) }}
{% endmacro %}

{# The dbt invocation's start: stamped on every row a run (re)writes. #}
{% macro built_at() %}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{% endmacro %}

{#
    A fingerprint of a row's columns. Summed per period (as decimal(38, 0), which
    any engine adds without overflow) it tells whether a period's lines changed,
    were added, removed or moved to another period.
#}
{% macro row_fingerprint(columns) %}
    {{ return(adapter.dispatch('row_fingerprint')(columns)) }}
{% endmacro %}

{#-
    DuckDB's hash of a string longer than twelve bytes loses bits of the characters
    at some offsets in each eight: 'erp|US01|2025|9000002099|2' and
    'erp|US02|2025|9000002090|2' hash alike, so an edit of two such characters of a
    line's text could leave its period unrebuilt. Each column is hashed again as text
    from its fifth character on, where the same edit falls on offsets whose bits are
    kept (as the exports' row digests do: orchestration/exports/publish.py).
-#}
{% macro duckdb__row_fingerprint(columns) %}
    {%- set shifted = [] %}
    {%- for column in columns %}
        {%- do shifted.append('substr(cast(' ~ column ~ ' as varchar), 5)') %}
    {%- endfor %}
    cast(hash({{ (columns + shifted) | join(', ') }}) as decimal(38, 0))
{% endmacro %}

{% macro spark__row_fingerprint(columns) %}
    cast(xxhash64({{ columns | join(', ') }}) as decimal(38, 0))
{% endmacro %}

{% macro default__row_fingerprint(columns) %}
    {{ exceptions.raise_compiler_error(
        "row_fingerprint: no 64-bit row hash known for adapter " ~ adapter.type()
    ) }}
{% endmacro %}

{#
    A warehouse built before these models were incremental has the tables without
    the columns their runs compare: say how to rebuild them instead of failing on a
    missing column.
#}
{% macro require_period_columns(columns) %}
    {%- if execute and is_incremental() -%}
        {%- set built = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- for column in columns if column not in built -%}
            {{ exceptions.raise_compiler_error(
                this ~ " was built before it was incremental as it is now (it has no column "
                ~ column ~ "): rebuild it once with `dbt build --full-refresh --select "
                ~ this.identifier ~ "+`"
            ) }}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
