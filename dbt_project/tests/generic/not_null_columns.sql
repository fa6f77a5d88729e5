{#-
    Fails with every row in which one of `column_names` is null: a model's
    required columns checked in one scan and one test, instead of a not_null
    test (a query and an asset check) per column.
-#}
{% test not_null_columns(model, column_names) %}

select *
from {{ model }}
where
    {%- for column in column_names %}
    {{ 'or ' if not loop.first }}{{ column }} is null
    {%- endfor %}

{% endtest %}
