-- One row per account and fiscal period: the statement line the account stood
-- on at the period's end, from the snapshot history, so that a past period
-- reports as it was after an account is reclassified. The statement (BS or PL)
-- stays the current one: the trial balance rolls balances forward by it.
-- The UNMAPPED member holds in every period.
with

account_history as (

    select * from {{ ref('dim_account_history') }}

),

accounts as (

    select * from {{ ref('dim_account') }}

),

statement_lines as (

    select * from {{ ref('stg_erp__financial_statement_items') }}

),

fiscal_periods as (

    select * from {{ ref('dim_fiscal_period') }}

),

as_of_period_end as (

    select
        fiscal_periods.period_id,
        account_history.account_code,
        account_history.statement_line_code,
        account_history.section,
        account_history.statement_line_name,
        statement_lines.sort_order as statement_line_sort_order
    from fiscal_periods
    inner join account_history
        on fiscal_periods.period_end_date >= account_history.valid_from_date
            and fiscal_periods.period_end_date < account_history.valid_to_date
    left join statement_lines
        on account_history.statement_line_code = statement_lines.statement_line_code

),

unmapped as (

    select
        fiscal_periods.period_id,
        accounts.account_code,
        accounts.statement_line_code,
        accounts.section,
        accounts.statement_line_name,
        accounts.statement_line_sort_order
    from fiscal_periods
    cross join accounts
    where accounts.account_code = 'UNMAPPED'

),

unioned as (

    select * from as_of_period_end
    union all
    select * from unmapped

),

final as (

    select

        ---------- ids
        unioned.period_id,
        unioned.account_code,
        unioned.statement_line_code,

        ---------- classification
        accounts.statement,
        unioned.section,
        unioned.statement_line_name,
        unioned.statement_line_sort_order

    from unioned
    inner join accounts
        on unioned.account_code = accounts.account_code

)

select * from final
