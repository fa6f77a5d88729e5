{{ config(meta={"dagster": {"ref": {"name": "fct_gl_journal_lines"}}}) }}

-- The fiscal calendar built from var('fiscal_year_start_month') agrees with the
-- group ERP: every booked ERP line's stated fiscal year and period are those of
-- its posting date in dim_fiscal_period.
--
-- It reads the lines the fact's latest run wrote (its periods with the latest
-- _built_at), as the generic tests on the GL models do: a line is written again
-- whenever staging takes a new version of it or the calendar moves it, so a line
-- not rewritten is as it was when a run tested it. A full build tests every line.
with

booked_latest as (

    select max(latest._built_at) as built_at
    from {{ ref('fct_gl_journal_lines') }} as latest

),

-- joined, not compared to a subquery: the join hands the latest _built_at to the
-- scan, which then reads the rebuilt periods' lines only
booked as (

    select booked.*
    from {{ ref('fct_gl_journal_lines') }} as booked
    inner join booked_latest
        on booked._built_at = booked_latest.built_at
    where booked.source_system = 'erp'

),

-- the rebuilt lines' posting dates bound the staged lines read (a booked line's
-- period is its posting date's, and staging held the same date when it was built)
booked_dates as (

    select
        min(dated.posting_date) as first_day,
        max(dated.posting_date) as last_day
    from {{ ref('fct_gl_journal_lines') }} as dated
    inner join booked_latest
        on dated._built_at = booked_latest.built_at

),

journal_items as (

    select items.*
    from {{ ref('stg_erp__journal_items') }} as items
    inner join booked_dates
        on items.posting_date between booked_dates.first_day and booked_dates.last_day

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
