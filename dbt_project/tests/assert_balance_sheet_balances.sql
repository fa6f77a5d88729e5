{{ config(meta={"dagster": {"ref": {"name": "balance_sheet"}}}) }}

-- Invariant 3: for every legal entity and period, total assets equal total
-- liabilities plus equity, current-year earnings included. Amounts on lines
-- outside these sections (UNMAPPED) make it fail until they are mapped.
with

balance_sheet as (

    select * from {{ ref('balance_sheet') }}

),

totals as (

    select
        entity_code,
        period_id,
        sum(case when section = 'Assets' then amount_functional else 0 end) as total_assets,
        sum(case when section in ('Liabilities', 'Equity') then amount_functional else 0 end)
            as total_liabilities_and_equity
    from balance_sheet
    group by
        entity_code,
        period_id

)

select * from totals
where total_assets <> total_liabilities_and_equity
