-- One row per legal entity, account and fiscal period, dense over the fiscal
-- calendar for every account the entity has posted to (plus retained earnings
-- and the cumulative translation adjustment). The roll-forward and the
-- translation live in int_gl_balances_translated, by trading partner; this is
-- its sum over partners.
with

balances as (

    select * from {{ ref('int_gl_balances_translated') }}

),

by_account as (

    select
        entity_code,
        account_code,
        period_id,
        fiscal_year,
        fiscal_period,
        currency_functional,
        translation_method,
        average_rate,
        closing_rate,
        sum(opening_functional) as opening_functional,
        sum(movement_functional) as movement_functional,
        sum(carryforward_functional) as carryforward_functional,
        sum(closing_functional) as closing_functional,
        sum(opening_group) as opening_group,
        sum(movement_group) as movement_group,
        sum(carryforward_group) as carryforward_group,
        sum(translation_difference_group) as translation_difference_group,
        sum(closing_group) as closing_group
    from balances
    group by
        entity_code,
        account_code,
        period_id,
        fiscal_year,
        fiscal_period,
        currency_functional,
        translation_method,
        average_rate,
        closing_rate

),

final as (

    select

        ---------- ids
        entity_code,
        account_code,
        period_id,

        ---------- fiscal calendar
        fiscal_year,
        fiscal_period,

        ---------- functional currency
        currency_functional,
        cast(opening_functional as decimal(18, 2)) as opening_functional,
        cast(movement_functional as decimal(18, 2)) as movement_functional,
        cast(carryforward_functional as decimal(18, 2)) as carryforward_functional,
        cast(closing_functional as decimal(18, 2)) as closing_functional,

        ---------- translation
        translation_method,
        cast(average_rate as decimal(38, 12)) as average_rate,
        cast(closing_rate as decimal(38, 12)) as closing_rate,

        ---------- group currency
        '{{ var("group_currency") }}' as currency_group,
        cast(opening_group as decimal(18, 2)) as opening_group,
        cast(movement_group as decimal(18, 2)) as movement_group,
        cast(carryforward_group as decimal(18, 2)) as carryforward_group,
        cast(translation_difference_group as decimal(18, 2)) as translation_difference_group,
        cast(closing_group as decimal(18, 2)) as closing_group

    from by_account

)

select * from final
