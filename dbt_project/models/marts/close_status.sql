-- One row per legal entity on the group ERP and fiscal period of the close calendar:
-- how far the period-end close is (milestones reached of those planned), the next
-- milestone due, and a status: done (every milestone reached), late (a milestone past
-- its planned date and not reached) or pending. "Now" is the ERP's clock, its latest
-- change (a posting or a milestone), so that a replayed history reads as it did then.
-- Restatements (postings after the lock) are counted per period.
with

calendar as (

    select * from {{ ref('stg_erp__close_calendar') }}

),

milestone_events as (

    select * from {{ ref('stg_erp__close_milestone_events') }}

),

journal_items as (

    select * from {{ ref('stg_erp__journal_items') }}

),

restated_postings as (

    select * from {{ ref('restated_postings') }}

),

as_of as (

    select max(changed_at) as as_of_at
    from (
        select max(reached_at) as changed_at from milestone_events
        union all
        select max(last_changed_at) as changed_at from journal_items
    ) as changes

),

milestones as (

    select
        calendar.entity_code,
        calendar.period_id,
        calendar.fiscal_year,
        calendar.fiscal_period,
        calendar.milestone,
        calendar.working_day,
        calendar.planned_date,
        milestone_events.reached_at,
        as_of.as_of_at,
        milestone_events.reached_at is null
        and calendar.planned_date < cast(as_of.as_of_at as date) as is_overdue
    from calendar
    cross join as_of
    left join milestone_events
        on calendar.entity_code = milestone_events.entity_code
            and calendar.period_id = milestone_events.period_id
            and calendar.milestone = milestone_events.milestone

),

next_due as (

    select
        entity_code,
        period_id,
        milestone as next_milestone,
        planned_date as next_due_date
    from (
        select
            milestones.*,
            row_number() over (
                partition by milestones.entity_code, milestones.period_id
                order by milestones.working_day
            ) as due_order
        from milestones
        where milestones.reached_at is null
    ) as open_milestones
    where due_order = 1

),

by_period as (

    select
        entity_code,
        period_id,
        fiscal_year,
        fiscal_period,
        count(*) as milestones_planned,
        count(reached_at) as milestones_done,
        sum(case when is_overdue then 1 else 0 end) as milestones_late,
        max(case when milestone = 'PeriodLocked' then planned_date end) as lock_planned_date,
        max(case when milestone = 'PeriodLocked' then reached_at end) as locked_at,
        max(as_of_at) as as_of_at
    from milestones
    group by entity_code, period_id, fiscal_year, fiscal_period

),

restatements as (

    select
        entity_code,
        period_id,
        count(*) as restatements,
        sum(case when is_flagged then 0 else 1 end) as restatements_unflagged,
        sum(amount_functional) as restated_amount_functional
    from restated_postings
    group by entity_code, period_id

),

final as (

    select

        ---------- ids
        by_period.entity_code,
        by_period.period_id,
        by_period.fiscal_year,
        by_period.fiscal_period,

        ---------- progress
        case
            when by_period.milestones_done = by_period.milestones_planned then 'done'
            when by_period.milestones_late > 0 then 'late'
            else 'pending'
        end as close_status,
        by_period.milestones_planned,
        by_period.milestones_done,
        by_period.milestones_late,
        next_due.next_milestone,
        next_due.next_due_date,
        by_period.lock_planned_date,

        ---------- restatements
        coalesce(restatements.restatements, 0) as restatements,
        coalesce(restatements.restatements_unflagged, 0) as restatements_unflagged,
        cast(coalesce(restatements.restated_amount_functional, 0) as decimal(18, 2))
            as restated_amount_functional,

        ---------- timestamps
        by_period.locked_at,
        by_period.as_of_at

    from by_period
    left join next_due
        on by_period.entity_code = next_due.entity_code
            and by_period.period_id = next_due.period_id
    left join restatements
        on by_period.entity_code = restatements.entity_code
            and by_period.period_id = restatements.period_id

)

select * from final
