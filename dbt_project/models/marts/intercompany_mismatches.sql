-- One row per trading-partner pair, fiscal period, kind (balances, revenue and
-- expense) and transaction currency: what each side booked against the other
-- in the period, in transaction currency. The two legs of an intercompany
-- transaction cancel in transaction currency; a pair whose legs do not is
-- mismatched (a missing or different leg), and is_mismatched says so. The
-- group-currency difference that consolidation_eliminations books is a
-- translation difference when the legs match.
with

journal_lines as (

    select * from {{ ref('fct_gl_journal_lines') }}

),

accounts as (

    select * from {{ ref('dim_account') }}

),

legal_entities as (

    select * from {{ ref('dim_legal_entity') }}

),

intercompany_lines as (

    select
        journal_lines.period_id,
        journal_lines.fiscal_year,
        journal_lines.fiscal_period,
        case
            when journal_lines.entity_code < journal_lines.partner_entity_code then journal_lines.entity_code
            else journal_lines.partner_entity_code
        end as entity_code_a,
        case
            when journal_lines.entity_code < journal_lines.partner_entity_code then journal_lines.partner_entity_code
            else journal_lines.entity_code
        end as entity_code_b,
        journal_lines.entity_code,
        case when accounts.statement = 'PL' then 'revenue_and_expense' else 'balances' end
            as elimination_type,
        journal_lines.currency_txn,
        journal_lines.amount_txn,
        journal_lines.amount_group
    from journal_lines
    inner join accounts
        on journal_lines.account_code = accounts.account_code
    inner join legal_entities as partners
        on journal_lines.partner_entity_code = partners.entity_code
    where accounts.is_intercompany

),

by_pair as (

    select
        period_id,
        fiscal_year,
        fiscal_period,
        entity_code_a,
        entity_code_b,
        elimination_type,
        currency_txn,
        sum(case when entity_code = entity_code_a then amount_txn else 0 end) as amount_txn_a,
        sum(case when entity_code = entity_code_b then amount_txn else 0 end) as amount_txn_b,
        sum(case when entity_code = entity_code_a then amount_group else 0 end) as amount_group_a,
        sum(case when entity_code = entity_code_b then amount_group else 0 end) as amount_group_b
    from intercompany_lines
    group by
        period_id,
        fiscal_year,
        fiscal_period,
        entity_code_a,
        entity_code_b,
        elimination_type,
        currency_txn

),

final as (

    select

        ---------- ids
        period_id,
        {{ dbt.concat(["entity_code_a", "'~'", "entity_code_b"]) }} as pair_code,
        elimination_type,
        currency_txn,
        entity_code_a,
        entity_code_b,

        ---------- fiscal calendar
        fiscal_year,
        fiscal_period,

        ---------- transaction currency
        cast(amount_txn_a as decimal(18, 2)) as amount_txn_a,
        cast(amount_txn_b as decimal(18, 2)) as amount_txn_b,
        cast(amount_txn_a + amount_txn_b as decimal(18, 2)) as difference_txn,

        ---------- group currency at the posting dates' rates
        cast(amount_group_a as decimal(18, 2)) as amount_group_a,
        cast(amount_group_b as decimal(18, 2)) as amount_group_b,

        ---------- flags
        amount_txn_a + amount_txn_b <> 0 as is_mismatched

    from by_pair

)

select * from final
