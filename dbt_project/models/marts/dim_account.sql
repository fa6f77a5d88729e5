-- The group chart of accounts with its financial statement hierarchy
-- (statement > section > line > account), plus the member UNMAPPED that takes
-- regional postings whose local account has no mapping yet.
with

gl_accounts as (

    select * from {{ ref('stg_erp__gl_accounts') }}

),

statement_lines as (

    select * from {{ ref('stg_erp__financial_statement_items') }}

),

accounts as (

    select

        ---------- ids
        gl_accounts.account_code,

        ---------- text
        gl_accounts.account_name,
        gl_accounts.account_type,
        statement_lines.statement,
        statement_lines.section,
        gl_accounts.statement_line_code,
        statement_lines.statement_line_name,
        statement_lines.normal_balance,

        ---------- numerics
        statement_lines.sort_order as statement_line_sort_order,

        ---------- booleans
        gl_accounts.is_intercompany

    from gl_accounts
    left join statement_lines
        on gl_accounts.statement_line_code = statement_lines.statement_line_code

),

unmapped as (

    -- carried like a balance-sheet account so that unmapped postings stay in
    -- the trial balance (which still sums to zero) and unbalance the balance
    -- sheet visibly until the mapping is fixed
    select
        'UNMAPPED' as account_code,
        'Unmapped local account' as account_name,
        'X' as account_type,
        'BS' as statement,
        'Unmapped' as section,
        'UNMAPPED' as statement_line_code,
        'Unmapped local accounts' as statement_line_name,
        'D' as normal_balance,
        99999 as statement_line_sort_order,
        false as is_intercompany

),

final as (

    select * from accounts
    union all
    select * from unmapped

)

select * from final
