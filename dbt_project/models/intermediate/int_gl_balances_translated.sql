-- One row per legal entity, account, trading partner and fiscal period, dense
-- over the fiscal calendar: the roll-forward in functional currency and its
-- translation into the group currency (var group_currency).
--
-- Functional currency: balance-sheet accounts cumulate since the first period;
-- P&L accounts are year to date and restart in period 1; in period 1 retained
-- earnings (var retained_earnings_account) receive the previous fiscal year's
-- P&L as carryforward.
--
-- Translation (current-rate method):
--   income and expense (statement PL)        average rate of each period's movement;
--   assets and liabilities                   closing rate of the period on the balance;
--   equity                                   historical: the posting date's daily rate
--                                            (retained earnings get the translated P&L);
--   cumulative translation adjustment (var cta_account): what makes the entity's
--   translated balances sum to zero in every period.
--
-- The trading partner is kept so that intercompany balances are translated
-- (and rounded) exactly as they are eliminated. Balances roll forward with
-- window functions over the periods of each key, never by joining periods to
-- later periods.
{%- set retained_earnings = var('retained_earnings_account') %}
{%- set cta = var('cta_account') %}

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

period_rates as (

    select * from {{ ref('int_fx_period_rates') }}

),

movements as (

    select
        entity_code,
        account_code,
        coalesce(partner_entity_code, '') as partner_entity_code,
        period_id,
        sum(amount_functional) as movement_functional,
        sum(amount_group) as movement_historical_group
    from journal_lines
    group by
        entity_code,
        account_code,
        coalesce(partner_entity_code, ''),
        period_id

),

entity_accounts as (

    select distinct
        entity_code,
        account_code,
        partner_entity_code
    from movements

    union

    select distinct
        entity_code,
        '{{ retained_earnings }}' as account_code,
        '' as partner_entity_code
    from movements

    union

    select distinct
        entity_code,
        '{{ cta }}' as account_code,
        '' as partner_entity_code
    from movements

),

grid as (

    select
        entity_accounts.entity_code,
        entity_accounts.account_code,
        entity_accounts.partner_entity_code,
        fiscal_periods.period_id,
        fiscal_periods.period_index,
        fiscal_periods.fiscal_year,
        fiscal_periods.fiscal_period,
        legal_entities.currency_functional,
        case
            when entity_accounts.account_code = '{{ cta }}' then 'cta'
            when accounts.statement = 'PL' then 'average'
            when accounts.section = 'Equity' then 'historical'
            else 'closing'
        end as translation_method
    from entity_accounts
    cross join fiscal_periods
    left join accounts
        on entity_accounts.account_code = accounts.account_code
    left join legal_entities
        on entity_accounts.entity_code = legal_entities.entity_code

),

with_rates as (

    select
        grid.*,
        average_rates.rate_to_group as average_rate,
        closing_rates.rate_to_group as closing_rate,
        coalesce(movements.movement_functional, 0) as movement_functional,
        coalesce(movements.movement_historical_group, 0) as movement_historical_group,
        cast(
            round(coalesce(movements.movement_functional, 0) * average_rates.rate_to_group, 2)
            as decimal(18, 2)
        ) as movement_average_group
    from grid
    left join movements
        on grid.entity_code = movements.entity_code
            and grid.account_code = movements.account_code
            and grid.partner_entity_code = movements.partner_entity_code
            and grid.period_id = movements.period_id
    left join period_rates as average_rates
        on grid.currency_functional = average_rates.currency_code
            and grid.period_id = average_rates.period_id
            and average_rates.rate_type = 'average'
    left join period_rates as closing_rates
        on grid.currency_functional = closing_rates.currency_code
            and grid.period_id = closing_rates.period_id
            and closing_rates.rate_type = 'closing'

),

profit_and_loss_by_year as (

    select
        entity_code,
        fiscal_year,
        sum(movement_functional) as result_functional,
        sum(movement_average_group) as result_group
    from with_rates
    where translation_method = 'average'
    group by
        entity_code,
        fiscal_year

),

with_carryforward as (

    select
        with_rates.*,
        coalesce(prior_year.result_functional, 0) as carryforward_functional,
        coalesce(prior_year.result_group, 0) as carryforward_group
    from with_rates
    left join profit_and_loss_by_year as prior_year
        on with_rates.account_code = '{{ retained_earnings }}'
            and with_rates.partner_entity_code = ''
            and with_rates.fiscal_period = 1
            and with_rates.entity_code = prior_year.entity_code
            and with_rates.fiscal_year - 1 = prior_year.fiscal_year

),

rolled as (

    select
        *,
        case
            when translation_method = 'average'
                then sum(movement_functional) over (
                        partition by entity_code, account_code, partner_entity_code, fiscal_year
                        order by period_index
                        rows between unbounded preceding and current row
                    )
            else sum(movement_functional + carryforward_functional) over (
                    partition by entity_code, account_code, partner_entity_code
                    order by period_index
                    rows between unbounded preceding and current row
                )
        end as closing_functional,
        case
            when translation_method = 'average'
                then sum(movement_average_group) over (
                        partition by entity_code, account_code, partner_entity_code, fiscal_year
                        order by period_index
                        rows between unbounded preceding and current row
                    )
            else sum(movement_historical_group + carryforward_group) over (
                    partition by entity_code, account_code, partner_entity_code
                    order by period_index
                    rows between unbounded preceding and current row
                )
        end as closing_at_transaction_rates_group
    from with_carryforward

),

translated as (

    select
        *,
        case
            when translation_method = 'closing'
                then cast(round(closing_functional * closing_rate, 2) as decimal(18, 2))
            else closing_at_transaction_rates_group
        end as closing_before_cta_group
    from rolled

),

with_cta as (

    select
        *,
        case
            when translation_method = 'cta'
                then closing_before_cta_group - sum(closing_before_cta_group) over (
                        partition by entity_code, period_id
                    )
            else closing_before_cta_group
        end as closing_group
    from translated

),

with_opening as (

    select
        *,
        case
            when translation_method = 'average' and fiscal_period = 1 then 0
            else lag(closing_functional, 1, 0) over (
                    partition by entity_code, account_code, partner_entity_code
                    order by period_index
                )
        end as opening_functional,
        case
            when translation_method = 'average' and fiscal_period = 1 then 0
            else lag(closing_group, 1, 0) over (
                    partition by entity_code, account_code, partner_entity_code
                    order by period_index
                )
        end as opening_group
    from with_cta

),

final as (

    select

        ---------- ids
        entity_code,
        account_code,
        nullif(partner_entity_code, '') as partner_entity_code,
        period_id,

        ---------- fiscal calendar
        fiscal_year,
        fiscal_period,
        period_index,

        ---------- functional currency
        currency_functional,
        cast(opening_functional as decimal(18, 2)) as opening_functional,
        cast(movement_functional as decimal(18, 2)) as movement_functional,
        cast(carryforward_functional as decimal(18, 2)) as carryforward_functional,
        cast(closing_functional as decimal(18, 2)) as closing_functional,

        ---------- translation
        translation_method,
        average_rate,
        closing_rate,

        ---------- group currency
        cast(opening_group as decimal(18, 2)) as opening_group,
        cast(
            case when translation_method = 'average' then movement_average_group else movement_historical_group end
            as decimal(18, 2)
        ) as movement_group,
        cast(carryforward_group as decimal(18, 2)) as carryforward_group,
        cast(
            closing_group - opening_group - carryforward_group
            - case when translation_method = 'average' then movement_average_group else movement_historical_group end
            as decimal(18, 2)
        ) as translation_difference_group,
        cast(closing_group as decimal(18, 2)) as closing_group

    from with_opening

)

select * from final
