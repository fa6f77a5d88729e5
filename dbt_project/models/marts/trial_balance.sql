-- One row per legal entity, account and fiscal period, dense: every account an
-- entity has ever posted to appears in every period of the fiscal calendar, so
-- balances carry through periods without movement.
--   balance-sheet accounts: cumulative since the first period;
--   P&L accounts: year to date, restarting at zero in period 1 of each fiscal year;
--   retained earnings (var retained_earnings_account): in period 1 of each fiscal
--   year it receives the previous fiscal year's P&L as carryforward.
-- closing = opening + movement + carryforward, so the closing balances of an
-- entity and period sum to zero. Balances roll forward with window functions.
{%- set retained_earnings = var('retained_earnings_account') %}

with

journal_lines as (

    select * from {{ ref('fct_gl_journal_lines') }}

),

accounts as (

    select * from {{ ref('dim_account') }}

),

fiscal_periods as (

    select * from {{ ref('dim_fiscal_period') }}

),

legal_entities as (

    select * from {{ ref('dim_legal_entity') }}

),

movements as (

    select
        entity_code,
        account_code,
        period_id,
        sum(amount_functional) as movement_functional,
        sum(amount_group) as movement_group
    from journal_lines
    group by
        entity_code,
        account_code,
        period_id

),

entity_accounts as (

    select distinct entity_code, account_code from movements
    union
    select distinct entity_code, '{{ retained_earnings }}' as account_code from movements

),

grid as (

    select
        entity_accounts.entity_code,
        entity_accounts.account_code,
        fiscal_periods.period_id,
        fiscal_periods.period_index,
        fiscal_periods.fiscal_year,
        fiscal_periods.fiscal_period,
        coalesce(accounts.statement = 'PL', false) as is_profit_and_loss
    from entity_accounts
    cross join fiscal_periods
    left join accounts
        on entity_accounts.account_code = accounts.account_code

),

profit_and_loss_by_year as (

    select
        movements.entity_code,
        fiscal_periods.fiscal_year,
        sum(movements.movement_functional) as result_functional,
        sum(movements.movement_group) as result_group
    from movements
    inner join fiscal_periods
        on movements.period_id = fiscal_periods.period_id
    inner join accounts
        on movements.account_code = accounts.account_code
    where accounts.statement = 'PL'
    group by
        movements.entity_code,
        fiscal_periods.fiscal_year

),

with_movements as (

    select
        grid.entity_code,
        grid.account_code,
        grid.period_id,
        grid.period_index,
        grid.fiscal_year,
        grid.fiscal_period,
        grid.is_profit_and_loss,
        coalesce(movements.movement_functional, 0) as movement_functional,
        coalesce(movements.movement_group, 0) as movement_group,
        coalesce(prior_year.result_functional, 0) as carryforward_functional,
        coalesce(prior_year.result_group, 0) as carryforward_group
    from grid
    left join movements
        on grid.entity_code = movements.entity_code
        and grid.account_code = movements.account_code
        and grid.period_id = movements.period_id
    left join profit_and_loss_by_year as prior_year
        on grid.account_code = '{{ retained_earnings }}'
        and grid.fiscal_period = 1
        and grid.entity_code = prior_year.entity_code
        and grid.fiscal_year - 1 = prior_year.fiscal_year

),

rolled as (

    select
        *,
        case
            when is_profit_and_loss then sum(movement_functional) over (
                partition by entity_code, account_code, fiscal_year
                order by period_index
                rows between unbounded preceding and current row
            )
            else sum(movement_functional + carryforward_functional) over (
                partition by entity_code, account_code
                order by period_index
                rows between unbounded preceding and current row
            )
        end as closing_functional,
        case
            when is_profit_and_loss then sum(movement_group) over (
                partition by entity_code, account_code, fiscal_year
                order by period_index
                rows between unbounded preceding and current row
            )
            else sum(movement_group + carryforward_group) over (
                partition by entity_code, account_code
                order by period_index
                rows between unbounded preceding and current row
            )
        end as closing_group
    from with_movements

),

final as (

    select

        ---------- ids
        rolled.entity_code,
        rolled.account_code,
        rolled.period_id,

        ---------- fiscal calendar
        rolled.fiscal_year,
        rolled.fiscal_period,

        ---------- functional currency
        legal_entities.currency_functional,
        cast(rolled.closing_functional - rolled.movement_functional - rolled.carryforward_functional
            as decimal(18, 2)) as opening_functional,
        cast(rolled.movement_functional as decimal(18, 2)) as movement_functional,
        cast(rolled.carryforward_functional as decimal(18, 2)) as carryforward_functional,
        cast(rolled.closing_functional as decimal(18, 2)) as closing_functional,

        ---------- group currency (historical rates, untranslated)
        '{{ var("group_currency") }}' as currency_group,
        cast(rolled.closing_group - rolled.movement_group - rolled.carryforward_group
            as decimal(18, 2)) as opening_group,
        cast(rolled.movement_group as decimal(18, 2)) as movement_group,
        cast(rolled.carryforward_group as decimal(18, 2)) as carryforward_group,
        cast(rolled.closing_group as decimal(18, 2)) as closing_group

    from rolled
    left join legal_entities
        on rolled.entity_code = legal_entities.entity_code

)

select * from final
