-- One row per elimination line: for every trading-partner pair, fiscal period
-- and kind (intercompany balances, intercompany revenue and expense), each
-- entity's leg is reversed in the group currency, and the difference between
-- the two legs (their translation difference, or a real mismatch reported by
-- intercompany_mismatches) is booked on one line so that every elimination
-- sums to zero: on the CTA (var cta_account) for balances, on the P&L account
-- var intercompany_pl_difference_account for revenue and expense, booked by the
-- group parent.
with

balances as (

    select * from {{ ref('int_gl_balances_translated') }}

),

accounts as (

    select * from {{ ref('dim_account') }}

),

legal_entities as (

    select * from {{ ref('dim_legal_entity') }}

),

group_parent as (

    select entity_code from legal_entities
    where is_group_parent

),

intercompany as (

    select
        balances.period_id,
        balances.fiscal_year,
        balances.fiscal_period,
        case
            when balances.entity_code < balances.partner_entity_code
                then {{ dbt.concat(["balances.entity_code", "'~'", "balances.partner_entity_code"]) }}
            else {{ dbt.concat(["balances.partner_entity_code", "'~'", "balances.entity_code"]) }}
        end as pair_code,
        case when accounts.statement = 'PL' then 'revenue_and_expense' else 'balances' end
            as elimination_type,
        balances.entity_code,
        balances.partner_entity_code,
        balances.account_code,
        -(balances.closing_group - balances.opening_group) as amount_period_group,
        -balances.closing_group as amount_closing_group
    from balances
    inner join accounts
        on balances.account_code = accounts.account_code
    inner join legal_entities as partners
        on balances.partner_entity_code = partners.entity_code
    where accounts.is_intercompany
        and (balances.closing_group <> 0 or balances.opening_group <> 0)

),

legs as (

    select
        period_id,
        fiscal_year,
        fiscal_period,
        pair_code,
        elimination_type,
        'leg' as elimination_line,
        entity_code,
        partner_entity_code,
        account_code,
        amount_period_group,
        amount_closing_group
    from intercompany

),

differences as (

    select
        intercompany.period_id,
        intercompany.fiscal_year,
        intercompany.fiscal_period,
        intercompany.pair_code,
        intercompany.elimination_type,
        'difference' as elimination_line,
        group_parent.entity_code,
        cast(null as {{ dbt.type_string() }}) as partner_entity_code,
        case
            when intercompany.elimination_type = 'balances' then '{{ var("cta_account") }}'
            else '{{ var("intercompany_pl_difference_account") }}'
        end as account_code,
        -sum(intercompany.amount_period_group) as amount_period_group,
        -sum(intercompany.amount_closing_group) as amount_closing_group
    from intercompany
    cross join group_parent
    group by
        intercompany.period_id,
        intercompany.fiscal_year,
        intercompany.fiscal_period,
        intercompany.pair_code,
        intercompany.elimination_type,
        group_parent.entity_code

),

unioned as (

    select * from legs
    union all
    select * from differences

),

final as (

    select

        ---------- ids
        period_id,
        pair_code,
        elimination_type,
        elimination_line,
        entity_code,
        partner_entity_code,
        account_code,

        ---------- fiscal calendar
        fiscal_year,
        fiscal_period,

        ---------- group currency
        '{{ var("group_currency") }}' as currency_group,
        cast(amount_period_group as decimal(18, 2)) as amount_period_group,
        cast(amount_closing_group as decimal(18, 2)) as amount_closing_group

    from unioned

)

select * from final
