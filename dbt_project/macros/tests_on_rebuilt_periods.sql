{#
    Generic tests on a model that is incremental by fiscal period (its meta says
    `test_rebuilt_periods_only: true`) read the rows its latest run wrote, the
    periods with the latest _built_at: a period that run did not rebuild is as it
    was when the run that built it tested it, so a daily run tests the day's
    periods, not ten million lines. A full build writes every row in one run and
    tests them all. A test that failed keeps failing while no later run rewrites
    the model; once a later run rebuilds other periods, the failed period is not
    tested again until it is rebuilt (backfill it, or --full-refresh): the failure
    stands in the run that built it, and its downstream models were skipped then.

    relationships tests read every row: their answer also depends on the
    dimension, which can change under a period that was not rebuilt. Uniqueness
    across periods is proven on every run by assert_every_journal_line_is_accounted_for,
    which counts each key a run rewrote in every period of the fact. The singular
    tests over the journal lines read what a run changed the same way (see each).

    Overrides dbt's get_where_subquery (the `model` a generic test reads); a
    test's own `where` config still applies.
#}
{% macro default__get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do filters.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {#- the tested model's meta; relationships tests and other nodes read every row -#}
    {%- if execute and model.resource_type == 'test' and model.attached_node
        and (model.test_metadata or {}).get('name') != 'relationships' -%}
        {%- set tested = graph.nodes.get(model.attached_node) -%}
        {%- if tested is not none and tested.config.meta.get('test_rebuilt_periods_only', false) -%}
            {%- do filters.append('_built_at = (select max(_built_at) from ' ~ relation ~ ')') -%}
        {%- endif -%}
    {%- endif -%}
    {%- if filters -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ filters | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
