-- PII (legal_name, national_id, bank_account) is deliberately not selected:
-- nothing downstream of raw_payroll may hold it. A table, not a view: the
-- pseudonym key exists only in dbt's session (macro pseudonymize).
{{ config(materialized='table') }}

with

source as (

    select * from {{ source('payroll', 'workers') }}

),

deduplicated as (

    {{ deduplicate('source', 'worker_id', 'last_updated desc, _dlt_load_id desc') }}

),

renamed as (

    select

        ---------- ids
        {{ pseudonymize('worker_id') }} as employee_key,
        company as entity_code,
        cost_center as cost_center_code,

        ---------- text
        job_profile,

        ---------- dates
        cast(hire_date as date) as hire_date,
        cast(termination_date as date) as termination_date,

        ---------- timestamps
        last_updated as last_changed_at

    from deduplicated

)

select * from renamed
