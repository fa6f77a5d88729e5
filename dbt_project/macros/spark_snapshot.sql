{#
    Snapshots on Spark without a table format that can MERGE. dbt-spark's snapshot
    materialization needs Delta, Iceberg or Hudi; plain Spark (and this project's local
    `spark` target) has Parquet tables only. The type-2 logic stays dbt's own (strategy,
    staging rows, scd ids); only the write differs: the first run creates the table,
    later runs write the merged history to a new table and swap it in, which is what
    MERGE does to a table that cannot be updated in place. Other file formats are refused
    with a clear error rather than half-supported.
#}
{% materialization snapshot, adapter='spark' %}

    {%- set file_format = config.get('file_format') or 'parquet' -%}
    {%- if file_format != 'parquet' -%}
        {% do exceptions.raise_compiler_error(
            "finsync's Spark snapshots write parquet (macros/spark_snapshot.sql); for "
            ~ file_format ~ " remove that file to use dbt-spark's MERGE-based materialization"
        ) %}
    {%- endif -%}

    {%- set columns = config.get('snapshot_table_column_names') or get_snapshot_table_column_names() -%}
    {% set target_relation_exists, target_relation = get_or_create_relation(
        database=none, schema=model.schema, identifier=model.get('alias', model.get('name')), type='table'
    ) -%}

    {% if not adapter.check_schema_exists(model.database, model.schema) %}
        {% do create_schema(model.schema) %}
    {% endif %}

    {{ run_hooks(pre_hooks) }}

    {% set strategy_macro = strategy_dispatch(config.get('strategy')) %}
    {% set strategy = strategy_macro(
        model, "snapshotted_data", "source_data", model['config'], target_relation_exists
    ) %}

    {% if not target_relation_exists %}

        {% set final_sql = create_table_as(False, target_relation, build_snapshot_table(strategy, model['compiled_code'])) %}

    {% else %}

        {{ adapter.valid_snapshot_target(target_relation, columns) }}
        {% set staging_table = spark_build_snapshot_staging_table(strategy, sql, target_relation) %}
        {% set target_columns = adapter.get_columns_in_relation(target_relation) | map(attribute='name') | list %}
        {% set rebuilt = target_relation.incorporate(path={'identifier': target_relation.identifier ~ '__dbt_rebuilt'}) %}

        {% set merged %}
            -- MERGE's effect: close the current version of each updated or deleted key ...
            select
                {%- for column in target_columns %}
                {%- if column == columns.dbt_valid_to %}
                coalesce(changes.{{ columns.dbt_valid_to }}, history.{{ column }}) as {{ column }}
                {%- else %}
                history.{{ column }}
                {%- endif %}{{ ',' if not loop.last }}
                {%- endfor %}
            from {{ target_relation }} as history
            left join (
                select {{ columns.dbt_scd_id }}, {{ columns.dbt_valid_to }}
                from {{ staging_table }}
                where dbt_change_type in ('update', 'delete')
            ) as changes
                on history.{{ columns.dbt_scd_id }} = changes.{{ columns.dbt_scd_id }}
                and history.{{ columns.dbt_valid_to }} is null
            union all
            -- ... and add the new versions
            select {{ target_columns | join(', ') }}
            from {{ staging_table }}
            where dbt_change_type = 'insert'
        {% endset %}

        {% do adapter.drop_relation(rebuilt) %}
        {% call statement('rebuild') %}
            {{ create_table_as(False, rebuilt, merged) }}
        {% endcall %}
        {% do adapter.drop_relation(target_relation) %}
        {% set final_sql = 'alter table ' ~ rebuilt ~ ' rename to ' ~ target_relation %}

    {% endif %}

    {% call statement('main') %}
        {{ final_sql }}
    {% endcall %}

    {% do persist_docs(target_relation, model) %}
    {{ run_hooks(post_hooks) }}

    {% if staging_table is defined %}
        {% do post_snapshot(staging_table) %}
    {% endif %}

    {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}
