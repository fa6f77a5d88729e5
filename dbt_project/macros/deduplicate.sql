{#
    Keep one row per key: the first by `order_by` (latest version first).
    dlt merges on the primary key, but an append, a replayed extract or a
    source that re-sends a record can still leave several versions in raw_*.
    Adds `_row_number`, which callers drop by selecting their columns.
#}
{% macro deduplicate(relation, partition_by, order_by) %}
    select *
    from (
        select
            _versions.*,
            row_number() over (
                partition by {{ partition_by }}
                order by {{ order_by }}
            ) as _row_number
        from {{ relation }} as _versions
    ) as _ranked
    where _row_number = 1
{% endmacro %}
