-- Workers without personal data: the pseudonymous employee_key (never a name
-- or a worker id), where they work and when.
with

workers as (

    select * from {{ ref('stg_payroll__workers') }}

),

final as (

    select

        ---------- ids
        employee_key,
        entity_code,
        cost_center_code,

        ---------- text
        job_profile,

        ---------- dates
        hire_date,
        termination_date,

        ---------- booleans
        termination_date is null as is_active

    from workers

)

select * from final
