-- a table, not a view: the pseudonym key exists only in dbt's session (macro pseudonymize)
{{ config(materialized='table') }}

with

source as (

    select * from {{ source('payroll', 'payroll_results') }}

),

deduplicated as (

    {{ deduplicate('source', 'payroll_result_id', 'last_updated desc, _dlt_load_id desc') }}

),

renamed as (

    select

        ---------- ids
        -- the vendor's result id embeds the worker id (PRR-<worker>-<month>): keyed too
        {{ pseudonymize('payroll_result_id') }} as payroll_result_key,
        {{ pseudonymize('worker_id') }} as employee_key,
        company as entity_code,
        cost_center as cost_center_code,

        ---------- numerics
        currency as currency_functional,
        cast(gross_earnings as decimal(18, 2)) as gross_earnings_functional,
        cast(employer_taxes as decimal(18, 2)) as employer_taxes_functional,
        cast(benefits as decimal(18, 2)) as benefits_functional,

        ---------- dates
        cast(pay_period_start as date) as pay_period_start_date,
        cast(pay_period_end as date) as pay_period_end_date,
        cast(payment_date as date) as payment_date,

        ---------- timestamps
        last_updated as last_changed_at

    from deduplicated

)

select * from renamed
