{#- Generic tests of generated projects. Plain SQL: no hub packages, so dbt runs offline. -#}

{% test agentic_between(model, column_name, min_value=none, max_value=none) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and (
    false
    {% if min_value is not none %} or {{ column_name }} < {{ min_value }} {% endif %}
    {% if max_value is not none %} or {{ column_name }} > {{ max_value }} {% endif %}
  )
{% endtest %}

{% test agentic_row_count_between(model, min_value=none, max_value=none) %}
select n from (select count(*) as n from {{ model }}) as counted
where false
  {% if min_value is not none %} or n < {{ min_value }} {% endif %}
  {% if max_value is not none %} or n > {{ max_value }} {% endif %}
{% endtest %}

{% test agentic_unique_rows(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#- dbt's own accepted_values writes each value between quotes unescaped: a value holding a
    quote would end the literal. Here quotes are doubled, as SQL escapes them. -#}
{% test agentic_accepted_values(model, column_name, values, quote=true) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and {{ column_name }} not in (
    {%- for value in values -%}
      {%- if quote -%} '{{ (value ~ "") | replace("'", "''") }}' {%- else -%} {{ value | int }} {%- endif -%}
      {%- if not loop.last %}, {% endif -%}
    {%- endfor -%}
  )
{% endtest %}
