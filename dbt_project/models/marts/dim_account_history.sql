-- Every version of every group account (snapshot snap_erp__gl_accounts) with
-- its statement hierarchy and the span it was valid for, so that a past period
-- reports an account on the statement line it had then. The first version of
-- an account is taken as valid since the beginning.
with

versions as (

    select * from {{ ref('snap_erp__gl_accounts') }}

),

statement_lines as (

    select * from {{ ref('stg_erp__financial_statement_items') }}

),

ordered as (

    select
        *,
        row_number() over (partition by account_code order by dbt_valid_from) as version_number
    from versions

),

final as (

    select

        ---------- ids
        ordered.account_code,
        cast(ordered.version_number as integer) as version_number,
        ordered.statement_line_code,

        ---------- text
        ordered.account_name,
        ordered.account_type,
        statement_lines.statement,
        statement_lines.section,
        statement_lines.statement_line_name,
        statement_lines.normal_balance,

        ---------- booleans
        ordered.is_intercompany,

        ---------- validity
        case
            when ordered.version_number = 1 then cast('1900-01-01' as date)
            else cast(ordered.dbt_valid_from as date)
        end as valid_from_date,
        coalesce(cast(ordered.dbt_valid_to as date), cast('9999-12-31' as date)) as valid_to_date,
        ordered.dbt_valid_to is null as is_current

    from ordered
    left join statement_lines
        on ordered.statement_line_code = statement_lines.statement_line_code

)

select * from final
