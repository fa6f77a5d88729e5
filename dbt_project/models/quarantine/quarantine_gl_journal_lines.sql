-- GL journal lines refused on their way to fct_gl_journal_lines, one row per
-- refused line with the reason and the whole line as payload. A document is
-- booked whole or not at all: when one of its lines is refused, its other lines
-- are refused with it, so that every booked document still balances.
-- A document whose functional amounts do not sum to zero is refused whole, so
-- that the trial balance stays balanced; a currency that is not ISO 4217 is
-- refused, never converted. Unmapped local codes are not a reason: they are
-- booked to UNMAPPED.
with

journal_lines as (

    select * from {{ ref('int_gl_journal_lines') }}

),

legal_entities as (

    select * from {{ ref('dim_legal_entity') }}

),

fiscal_periods as (

    select * from {{ ref('dim_fiscal_period') }}

),

iso_currencies as (

    select * from {{ ref('iso_currencies') }}

),

fiscal_calendar as (

    select
        min(period_start_date) as first_day,
        max(period_end_date) as last_day
    from fiscal_periods

),

checked as (

    select
        journal_lines.journal_line_key,
        journal_lines.document_key,
        journal_lines.amount_functional,
        case
            when journal_lines.entity_code is null then 'entity is null'
            when legal_entities.entity_code is null then 'unknown entity'
            when journal_lines.account_code is null then 'account is null'
            when journal_lines.posting_date is null then 'posting date is null'
            when journal_lines.amount_txn is null
                or journal_lines.amount_functional is null then 'amount is null'
            when journal_lines.currency_txn is null
                or journal_lines.currency_functional is null then 'currency is null'
            when journal_lines.posting_date < fiscal_calendar.first_day
                or journal_lines.posting_date > fiscal_calendar.last_day
                then 'posting date outside the fiscal calendar'
            when transaction_currencies.currency_code is null
                or functional_currencies.currency_code is null then 'unknown currency'
        end as line_reason
    from journal_lines
    left join legal_entities
        on journal_lines.entity_code = legal_entities.entity_code
    left join iso_currencies as transaction_currencies
        on journal_lines.currency_txn = transaction_currencies.currency_code
    left join iso_currencies as functional_currencies
        on journal_lines.currency_functional = functional_currencies.currency_code
    cross join fiscal_calendar

),

-- one aggregate over the lines, not a window: the few refused documents are
-- then joined back, so the lines are never sorted or joined to themselves
refused_documents as (

    select
        document_key,
        coalesce(sum(amount_functional) <> 0, false) as does_not_balance
    from checked
    group by document_key
    having count(line_reason) > 0
        or sum(amount_functional) <> 0

),

refused_lines as (

    select
        checked.journal_line_key,
        coalesce(
            checked.line_reason,
            case
                when refused_documents.does_not_balance then 'document does not balance'
                else 'another line of the document was refused'
            end
        ) as rejection_reason
    from checked
    inner join refused_documents
        on checked.document_key = refused_documents.document_key

),

-- the lines are read here again from the model, not through journal_lines: a CTE
-- read twice is materialized whole (every column of every line) before the join
-- picks the few refused ones
final as (

    select

        ---------- ids
        booked.source_system,
        booked.journal_line_key as source_key,
        booked.document_key,

        ---------- text
        refused_lines.rejection_reason,
        {{ row_to_json('booked') }} as payload

    from {{ ref('int_gl_journal_lines') }} as booked
    inner join refused_lines
        on booked.journal_line_key = refused_lines.journal_line_key

)

select * from final
