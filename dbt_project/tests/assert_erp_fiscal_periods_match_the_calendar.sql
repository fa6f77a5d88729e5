{{ config(meta={"dagster": {"ref": {"name": "fct_gl_journal_lines"}}}) }}

-- The fiscal calendar built from var('fiscal_year_start_month') agrees with the
-- group ERP: every booked ERP line's stated fiscal year and period are those of
-- its posting date in dim_fiscal_period.
with

journal_items as (

    select * from {{ ref('stg_erp__journal_items') }}

),

booked as (

    select * from {{ ref('fct_gl_journal_lines') }}
    where source_system = 'erp'

)

select
    journal_items.journal_line_key,
    journal_items.posting_date,
    journal_items.fiscal_year as stated_fiscal_year,
    journal_items.fiscal_period as stated_fiscal_period,
    booked.fiscal_year,
    booked.fiscal_period
from journal_items
inner join booked
    on journal_items.journal_line_key = booked.journal_line_key
where journal_items.fiscal_year <> booked.fiscal_year
    or journal_items.fiscal_period <> booked.fiscal_period
