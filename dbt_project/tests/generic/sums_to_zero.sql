{#- Fails with one row per `group_by` group whose `column_name` does not sum to exactly zero. -#}
{% test sums_to_zero(model, column_name, group_by) %}

select
    {{ group_by | join(', ') }},
    sum({{ column_name }}) as total
from {{ model }}
group by {{ group_by | join(', ') }}
having sum({{ column_name }}) <> 0

{% endtest %}
