-- One row per ERP journal document posted (or changed) after its fiscal period was
-- locked: a restatement of a closed period. It carries its amount and the products it
-- changes, and whether the controller flagged it (seed restatements, which excuses
-- the flagged period and the closed periods after it, as trial_balance_closed_periods
-- does). An original whose reversal posts in an open period changes only its reversal
-- flag, not its amounts: it is not a restatement. The regional ERP's CSV drops carry no
-- change time, so its postings cannot be placed after a lock and are not listed.
with

journal_items as (

    select * from {{ ref('stg_erp__journal_items') }}

),

journal_lines as (

    select * from {{ ref('fct_gl_journal_lines') }}

),

accounts as (

    select * from {{ ref('dim_account') }}

),

milestone_events as (

    select * from {{ ref('stg_erp__close_milestone_events') }}

),

restatements as (

    select * from {{ ref('restatements') }}

),

locks as (

    select
        entity_code,
        fiscal_year,
        fiscal_period,
        reached_at as locked_at
    from milestone_events
    where milestone = 'PeriodLocked'

),

-- staging is read here directly, not through journal_items: a CTE read twice is
-- materialized whole (every column of every line)
reversed as (

    select distinct
        reversing.entity_code,
        reversing.reversed_document_number as document_number
    from {{ ref('stg_erp__journal_items') }} as reversing
    where reversing.reversed_document_number is not null

),

-- one row per late line and lock, grouped before the GL fact is joined: the
-- aggregate keeps the planner from joining every staged line to every booked line
-- by key first (it cannot know how few lines changed after their period's lock)
late_items as (

    select
        journal_items.journal_line_key,
        journal_items.last_changed_at,
        locks.locked_at
    from journal_items
    inner join locks
        on journal_items.entity_code = locks.entity_code
            and journal_items.fiscal_year = locks.fiscal_year
            and journal_items.fiscal_period = locks.fiscal_period
    left join reversed
        on journal_items.entity_code = reversed.entity_code
            and journal_items.document_number = reversed.document_number
    where journal_items.last_changed_at > locks.locked_at
        and reversed.document_number is null
    group by
        journal_items.journal_line_key,
        journal_items.last_changed_at,
        locks.locked_at

),

by_document as (

    select
        journal_lines.document_key,
        journal_lines.entity_code,
        journal_lines.period_id,
        journal_lines.document_number,
        journal_lines.document_type,
        journal_lines.currency_functional,
        max(late_items.last_changed_at) as posted_at,
        max(late_items.locked_at) as locked_at,
        count(*) as line_count,
        sum(case when journal_lines.amount_functional > 0 then journal_lines.amount_functional else 0 end)
            as amount_functional,
        sum(case when accounts.statement = 'PL' then journal_lines.amount_functional else 0 end)
            as pl_amount_functional,
        max(case when accounts.statement = 'PL' then 1 else 0 end) as changes_pl,
        max(case when accounts.is_intercompany then 1 else 0 end) as changes_intercompany
    from late_items
    inner join journal_lines
        on late_items.journal_line_key = journal_lines.journal_line_key
    inner join accounts
        on journal_lines.account_code = accounts.account_code
    group by
        journal_lines.document_key,
        journal_lines.entity_code,
        journal_lines.period_id,
        journal_lines.document_number,
        journal_lines.document_type,
        journal_lines.currency_functional

),

restated as (

    select
        entity_code,
        min(period_id) as period_id
    from restatements
    group by entity_code

),

final as (

    select

        ---------- ids
        by_document.document_key,
        by_document.entity_code,
        by_document.period_id,
        by_document.document_number,
        by_document.document_type,

        ---------- numerics
        by_document.currency_functional,
        cast(by_document.amount_functional as decimal(18, 2)) as amount_functional,
        cast(by_document.pl_amount_functional as decimal(18, 2)) as pl_amount_functional,
        by_document.line_count,

        ---------- what it changes
        {{ dbt.concat([
            "'trial_balance, balance_sheet, consolidated_balance_sheet, exports/reporting'",
            "case when by_document.changes_pl = 1 then ', income_statement, consolidated_income_statement,"
            ~ " budget_vs_actual, exports/fpa_actuals' else '' end",
            "case when by_document.changes_intercompany = 1 then ', consolidation_eliminations,"
            ~ " intercompany_mismatches' else '' end",
        ]) }} as products_changed,

        ---------- flags
        restated.period_id is not null as is_flagged,

        ---------- timestamps
        by_document.posted_at,
        by_document.locked_at

    from by_document
    left join restated
        on by_document.entity_code = restated.entity_code
            and by_document.period_id >= restated.period_id

)

select * from final
