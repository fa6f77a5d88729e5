-- Every currency the group books or quotes, with its ISO 4217 name and minor
-- unit (from the seed iso_currencies).
with

company_codes as (

    select * from {{ ref('stg_erp__company_codes') }}

),

fx_rates as (

    select * from {{ ref('stg_erp__fx_rates') }}

),

journal_lines as (

    select * from {{ ref('int_gl_journal_lines') }}

),

iso_currencies as (

    select * from {{ ref('iso_currencies') }}

),

used as (

    select currency_functional as currency_code from company_codes
    union
    select currency_from from fx_rates
    union
    select currency_to from fx_rates
    union
    -- a journal line in a code unknown to ISO 4217 is refused
    -- (quarantine_gl_journal_lines), it names no currency
    select journal_lines.currency_txn from journal_lines
    inner join iso_currencies
        on journal_lines.currency_txn = iso_currencies.currency_code
    union
    select '{{ var("group_currency") }}'

),

final as (

    select

        ---------- ids
        used.currency_code,

        ---------- text
        iso_currencies.currency_name,

        ---------- numerics
        iso_currencies.minor_unit,

        ---------- booleans
        used.currency_code = '{{ var("group_currency") }}' as is_group_currency,
        used.currency_code in (
            select company_codes.currency_functional from company_codes
        ) as is_functional_currency

    from used
    left join iso_currencies
        on used.currency_code = iso_currencies.currency_code
    where used.currency_code is not null

)

select * from final
