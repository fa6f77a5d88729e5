-- The floor: finsync's published GL products with no framework at all, in one
-- DuckDB script. It loads the same extract files, books the same journal lines
-- (regional codes mapped, whole documents refused on a bad line), translates
-- them the same way (daily rates for lines, average/closing/historical rates
-- and the CTA for balances) and writes the same period files. No dedup of
-- re-sent rows, no history, no tests, no lineage: the least any pipeline does.
--
-- bench/floor.py sets two variables first: `extracts` (the demo enterprise's
-- extract folder) and `seeds` (dbt_project/seeds, the regional code mappings);
-- exports are written under the working directory.

set variable group_currency = 'USD';
set variable fiscal_year_start_month = 4;
set variable retained_earnings = '330000';
set variable cta = '340000';
set variable intercompany_pl_difference = '721000';

---------- load
create table journal_items as
select * from read_parquet(getvariable('extracts') || '/erp/journal_items/*.parquet');

create table regional_lines as
select * from read_csv(
    getvariable('extracts') || '/regional_erp/drops/*.csv',
    delim = ';', decimal_separator = ',', dateformat = '%d/%m/%Y', header = true,
    types = {
        'linha': 'integer', 'valor_moeda': 'decimal(18,2)',
        'debito_brl': 'decimal(18,2)', 'credito_brl': 'decimal(18,2)'
    }
);

create table fx_rates as
select * from read_parquet(getvariable('extracts') || '/erp/fx_rates.parquet');

create table company_codes as
select * from read_parquet(getvariable('extracts') || '/erp/company_codes.parquet');

create table accounts as
select
    gl.GLAccount as account_code,
    items.Statement as statement,
    items.Section as section,
    gl.FinancialStatementItem as statement_line_code,
    items.ItemName as statement_line_name,
    items.SortOrder as statement_line_sort_order,
    gl.IsIntercompany as is_intercompany
from read_parquet(getvariable('extracts') || '/erp/gl_accounts.parquet') as gl
left join read_parquet(getvariable('extracts') || '/erp/financial_statement_items.parquet') as items
    on gl.FinancialStatementItem = items.FinancialStatementItem
union all
select 'UNMAPPED', 'BS', 'Unmapped', 'UNMAPPED', 'Unmapped local accounts', 99999, false;

create table map_accounts as
select * from read_csv(getvariable('seeds') || '/map_regional_accounts.csv', all_varchar = true);
create table map_cost_centers as
select * from read_csv(getvariable('seeds') || '/map_regional_cost_centers.csv', all_varchar = true);
create table map_companies as
select * from read_csv(getvariable('seeds') || '/map_regional_companies.csv', all_varchar = true);

---------- fiscal calendar: whole fiscal years around the ERP's postings
create table fiscal_periods as
with bounds as (
    select
        date_trunc('month', min(PostingDate)) as first_month,
        date_trunc('month', max(PostingDate)) as last_month
    from journal_items
),
months as (
    select unnest(range(
        first_month - to_months(cast((month(first_month) - getvariable('fiscal_year_start_month') + 12) % 12 as integer)),
        last_month + to_months(cast(12 - (month(last_month) - getvariable('fiscal_year_start_month') + 12) % 12 as integer)),
        interval 1 month
    )) as period_start
    from bounds
),
numbered as (
    select
        cast(period_start as date) as period_start_date,
        cast(last_day(period_start) as date) as period_end_date,
        cast(row_number() over (order by period_start) as integer) as period_index,
        year(period_start) + case when month(period_start) >= getvariable('fiscal_year_start_month') then 1 else 0 end
            as fiscal_year,
        cast((month(period_start) - getvariable('fiscal_year_start_month') + 12) % 12 + 1 as integer) as fiscal_period
    from months
)
select fiscal_year || '-P' || lpad(cast(fiscal_period as varchar), 2, '0') as period_id, *
from numbered;

---------- FX: a daily rate to the group currency for every day quoted, then per period
create table daily_rates as
with quotes as (
    select FromCurrency as currency_code, ValidFrom as valid_from,
        cast(ExchangeRate as decimal(38, 12)) as rate_to_group, 1 as priority
    from fx_rates
    where ExchangeRateType = 'M' and ToCurrency = getvariable('group_currency')
        and FromCurrency <> getvariable('group_currency') and ExchangeRate > 0
    union all
    select ToCurrency, ValidFrom,
        cast(1 / cast(ExchangeRate as decimal(38, 12)) as decimal(38, 12)), 2
    from fx_rates
    where ExchangeRateType = 'M' and FromCurrency = getvariable('group_currency')
        and ToCurrency <> getvariable('group_currency') and ExchangeRate > 0
),
best as (
    select * from quotes
    qualify row_number() over (partition by currency_code, valid_from order by priority) = 1
),
days as (
    select cast(unnest(range(min(ValidFrom), max(ValidFrom) + 1, interval 1 day)) as date) as rate_date
    from fx_rates where ExchangeRateType = 'M'
),
currencies as (select distinct currency_code from best)
select currencies.currency_code, days.rate_date, best.rate_to_group
from currencies cross join days
asof inner join best
    on currencies.currency_code = best.currency_code and days.rate_date >= best.valid_from
union all
select getvariable('group_currency'), rate_date, cast(1 as decimal(38, 12)) from days;

create table period_rates as
with by_period as (
    select daily_rates.currency_code, fiscal_periods.period_id, fiscal_periods.period_end_date,
        cast(sum(daily_rates.rate_to_group) / count(*) as decimal(38, 12)) as average_rate
    from daily_rates
    inner join fiscal_periods
        on daily_rates.rate_date between fiscal_periods.period_start_date and fiscal_periods.period_end_date
    group by all
)
select by_period.currency_code, by_period.period_id, by_period.average_rate, daily_rates.rate_to_group as closing_rate
from by_period
left join daily_rates
    on by_period.currency_code = daily_rates.currency_code and by_period.period_end_date = daily_rates.rate_date;

---------- journal lines in group codes; a document with a bad line is refused whole
create table journal_lines as
select
    'erp|' || CompanyCode || '|' || FiscalYear || '|' || AccountingDocument as document_key,
    CompanyCode as entity_code, AccountingDocument as document_number, LedgerGLLineItem as line_number,
    GLAccount as account_code, CostCenter as cost_center_code, PartnerCompany as partner_entity_code,
    PostingDate as posting_date, CompanyCodeCurrency as currency_functional,
    AmountInTransactionCurrency as amount_txn, AmountInCompanyCodeCurrency as amount_functional
from journal_items
union all
select
    'regional_erp|' || empresa || '|' || numero_lancamento,
    coalesce(map_companies.group_company_code, 'UNMAPPED'), numero_lancamento, linha,
    case when conta is not null then coalesce(map_accounts.group_account_code, 'UNMAPPED') end,
    case when centro_custo is not null then coalesce(map_cost_centers.group_cost_center_code, 'UNMAPPED') end,
    parceiro, data_lancamento, company_codes.Currency, valor_moeda, debito_brl - credito_brl
from regional_lines
left join map_accounts on regional_lines.conta = map_accounts.local_account_code
left join map_cost_centers on regional_lines.centro_custo = map_cost_centers.local_cost_center_code
left join map_companies on regional_lines.empresa = map_companies.local_company_code
left join company_codes on map_companies.group_company_code = company_codes.CompanyCode;

create table gl_lines as
with refused as (
    select distinct journal_lines.document_key
    from journal_lines
    left join company_codes on journal_lines.entity_code = company_codes.CompanyCode
    where company_codes.CompanyCode is null or journal_lines.account_code is null
        or journal_lines.posting_date is null or journal_lines.amount_txn is null
        or journal_lines.amount_functional is null or journal_lines.currency_functional is null
        or journal_lines.posting_date not between (select min(period_start_date) from fiscal_periods)
        and (select max(period_end_date) from fiscal_periods)
)
select
    journal_lines.*,
    fiscal_periods.period_id,
    cast(round(journal_lines.amount_functional * daily_rates.rate_to_group, 2) as decimal(18, 2)) as amount_group
from journal_lines
inner join fiscal_periods on date_trunc('month', journal_lines.posting_date) = fiscal_periods.period_start_date
left join daily_rates
    on journal_lines.currency_functional = daily_rates.currency_code
        and journal_lines.posting_date = daily_rates.rate_date
where journal_lines.document_key not in (select document_key from refused);

---------- balances: roll forward by period, translate, CTA (as int_gl_balances_translated)
create table balances as
with movements as (
    select entity_code, account_code, coalesce(partner_entity_code, '') as partner_entity_code, period_id,
        sum(amount_functional) as movement_functional, sum(amount_group) as movement_historical_group
    from gl_lines group by all
),
keys as (
    select distinct entity_code, account_code, partner_entity_code from movements
    union select distinct entity_code, getvariable('retained_earnings'), '' from movements
    union select distinct entity_code, getvariable('cta'), '' from movements
),
with_rates as (
    select
        keys.*, fiscal_periods.period_id, fiscal_periods.period_index, fiscal_periods.fiscal_year,
        fiscal_periods.fiscal_period, company_codes.Currency as currency_functional,
        case
            when keys.account_code = getvariable('cta') then 'cta'
            when accounts.statement = 'PL' then 'average'
            when accounts.section = 'Equity' then 'historical'
            else 'closing'
        end as translation_method,
        period_rates.average_rate, period_rates.closing_rate,
        coalesce(movements.movement_functional, 0) as movement_functional,
        coalesce(movements.movement_historical_group, 0) as movement_historical_group,
        cast(round(coalesce(movements.movement_functional, 0) * period_rates.average_rate, 2) as decimal(18, 2))
            as movement_average_group
    from keys
    cross join fiscal_periods
    left join accounts on keys.account_code = accounts.account_code
    left join company_codes on keys.entity_code = company_codes.CompanyCode
    left join movements
        on keys.entity_code = movements.entity_code and keys.account_code = movements.account_code
            and keys.partner_entity_code = movements.partner_entity_code
            and fiscal_periods.period_id = movements.period_id
    left join period_rates
        on company_codes.Currency = period_rates.currency_code and fiscal_periods.period_id = period_rates.period_id
),
results as (
    select entity_code, fiscal_year, sum(movement_functional) as result_functional,
        sum(movement_average_group) as result_group
    from with_rates where translation_method = 'average' group by all
),
with_carryforward as (
    select with_rates.*,
        coalesce(results.result_functional, 0) as carryforward_functional,
        coalesce(results.result_group, 0) as carryforward_group
    from with_rates
    left join results
        on with_rates.account_code = getvariable('retained_earnings') and with_rates.partner_entity_code = ''
            and with_rates.fiscal_period = 1 and with_rates.entity_code = results.entity_code
            and with_rates.fiscal_year - 1 = results.fiscal_year
),
rolled as (
    select *,
        case when translation_method = 'average'
            then sum(movement_functional) over (partition by entity_code, account_code, partner_entity_code, fiscal_year order by period_index)
            else sum(movement_functional + carryforward_functional) over (partition by entity_code, account_code, partner_entity_code order by period_index)
        end as closing_functional,
        case when translation_method = 'average'
            then sum(movement_average_group) over (partition by entity_code, account_code, partner_entity_code, fiscal_year order by period_index)
            else sum(movement_historical_group + carryforward_group) over (partition by entity_code, account_code, partner_entity_code order by period_index)
        end as closing_at_transaction_rates_group
    from with_carryforward
),
translated as (
    select *,
        case when translation_method = 'closing'
            then cast(round(closing_functional * closing_rate, 2) as decimal(18, 2))
            else closing_at_transaction_rates_group
        end as closing_before_cta_group
    from rolled
),
with_cta as (
    select *,
        case when translation_method = 'cta'
            then closing_before_cta_group - sum(closing_before_cta_group) over (partition by entity_code, period_id)
            else closing_before_cta_group
        end as closing_group
    from translated
),
with_opening as (
    select *,
        case when translation_method = 'average' and fiscal_period = 1 then 0
            else lag(closing_functional, 1, 0) over (partition by entity_code, account_code, partner_entity_code order by period_index)
        end as opening_functional,
        case when translation_method = 'average' and fiscal_period = 1 then 0
            else lag(closing_group, 1, 0) over (partition by entity_code, account_code, partner_entity_code order by period_index)
        end as opening_group
    from with_cta
)
select
    entity_code, account_code, nullif(partner_entity_code, '') as partner_entity_code, period_id,
    fiscal_year, fiscal_period, currency_functional, translation_method, average_rate, closing_rate,
    opening_functional, movement_functional, carryforward_functional, closing_functional,
    opening_group,
    case when translation_method = 'average' then movement_average_group else movement_historical_group end
        as movement_group,
    carryforward_group, closing_group
from with_opening;

---------- the published products
create table trial_balance as
select
    entity_code, account_code, period_id, fiscal_year, fiscal_period, currency_functional,
    cast(sum(opening_functional) as decimal(18, 2)) as opening_functional,
    cast(sum(movement_functional) as decimal(18, 2)) as movement_functional,
    cast(sum(carryforward_functional) as decimal(18, 2)) as carryforward_functional,
    cast(sum(closing_functional) as decimal(18, 2)) as closing_functional,
    translation_method,
    cast(average_rate as decimal(38, 12)) as average_rate,
    cast(closing_rate as decimal(38, 12)) as closing_rate,
    getvariable('group_currency') as currency_group,
    cast(sum(opening_group) as decimal(18, 2)) as opening_group,
    cast(sum(movement_group) as decimal(18, 2)) as movement_group,
    cast(sum(carryforward_group) as decimal(18, 2)) as carryforward_group,
    cast(sum(closing_group - opening_group - carryforward_group - movement_group) as decimal(18, 2))
        as translation_difference_group,
    cast(sum(closing_group) as decimal(18, 2)) as closing_group
from balances
group by entity_code, account_code, period_id, fiscal_year, fiscal_period, currency_functional,
    translation_method, average_rate, closing_rate;

create table income_statement as
select
    tb.entity_code, tb.period_id, accounts.statement_line_code, tb.fiscal_year, tb.fiscal_period,
    accounts.section, accounts.statement_line_name, accounts.statement_line_sort_order, tb.currency_functional,
    cast(-sum(tb.movement_functional) as decimal(18, 2)) as amount_period_functional,
    cast(-sum(tb.closing_functional) as decimal(18, 2)) as amount_ytd_functional,
    tb.currency_group,
    cast(-sum(tb.movement_group) as decimal(18, 2)) as amount_period_group,
    cast(-sum(tb.closing_group) as decimal(18, 2)) as amount_ytd_group
from trial_balance as tb
inner join accounts on tb.account_code = accounts.account_code
where accounts.statement = 'PL'
group by all;

create table balance_sheet as
with lines as (
    select
        tb.entity_code, tb.period_id, tb.fiscal_year, tb.fiscal_period,
        case when accounts.statement = 'PL' then 'Equity' else accounts.section end as section,
        case when accounts.statement = 'PL' then 'CURRENT_YEAR_EARNINGS' else accounts.statement_line_code end
            as statement_line_code,
        tb.currency_functional, tb.currency_group,
        sum(tb.closing_functional) as balance_functional, sum(tb.closing_group) as balance_group
    from trial_balance as tb
    inner join accounts on tb.account_code = accounts.account_code
    group by all
)
select
    entity_code, period_id, statement_line_code, fiscal_year, fiscal_period, section, currency_functional,
    cast(balance_functional as decimal(18, 2)) as balance_functional,
    cast(case when section = 'Assets' then balance_functional else -balance_functional end as decimal(18, 2))
        as amount_functional,
    currency_group,
    cast(balance_group as decimal(18, 2)) as balance_group,
    cast(case when section = 'Assets' then balance_group else -balance_group end as decimal(18, 2)) as amount_group
from lines;

create table consolidation_eliminations as
with intercompany as (
    select
        balances.period_id,
        least(balances.entity_code, balances.partner_entity_code) || '~'
            || greatest(balances.entity_code, balances.partner_entity_code) as pair_code,
        case when accounts.statement = 'PL' then 'revenue_and_expense' else 'balances' end as elimination_type,
        balances.entity_code, balances.partner_entity_code, balances.account_code,
        -(balances.closing_group - balances.opening_group) as amount_period_group,
        -balances.closing_group as amount_closing_group
    from balances
    inner join accounts on balances.account_code = accounts.account_code
    inner join company_codes as partners on balances.partner_entity_code = partners.CompanyCode
    where accounts.is_intercompany and (balances.closing_group <> 0 or balances.opening_group <> 0)
)
select period_id, pair_code, elimination_type, 'leg' as elimination_line, entity_code, partner_entity_code,
    account_code, amount_period_group, amount_closing_group
from intercompany
union all
select period_id, pair_code, elimination_type, 'difference',
    (select CompanyCode from company_codes where ConsolidationParent is null), null,
    case when elimination_type = 'balances' then getvariable('cta') else getvariable('intercompany_pl_difference') end,
    -sum(amount_period_group), -sum(amount_closing_group)
from intercompany
group by period_id, pair_code, elimination_type;

create table consolidated_income_statement as
with amounts as (
    select account_code, period_id, movement_group as period_group, closing_group as ytd_group,
        0 as eliminations_period_group, 0 as eliminations_ytd_group
    from trial_balance
    union all
    select account_code, period_id, 0, 0, amount_period_group, amount_closing_group
    from consolidation_eliminations where elimination_type = 'revenue_and_expense'
)
select
    amounts.period_id, accounts.statement_line_code,
    cast(-sum(period_group + eliminations_period_group) as decimal(18, 2)) as amount_period_group,
    cast(-sum(ytd_group + eliminations_ytd_group) as decimal(18, 2)) as amount_ytd_group
from amounts
inner join accounts on amounts.account_code = accounts.account_code
where accounts.statement = 'PL'
group by all;

create table consolidated_balance_sheet as
with amounts as (
    select account_code, period_id, closing_group as amount_group from trial_balance
    union all
    select account_code, period_id, amount_closing_group from consolidation_eliminations
)
select
    amounts.period_id,
    case when accounts.statement = 'PL' then 'CURRENT_YEAR_EARNINGS' else accounts.statement_line_code end
        as statement_line_code,
    cast(sum(amounts.amount_group) as decimal(18, 2)) as balance_group
from amounts
inner join accounts on amounts.account_code = accounts.account_code
group by all;

---------- exports: one file per fiscal period, as finsync publishes them
copy (select * from trial_balance) to 'exports/reporting/trial_balance'
    (format parquet, compression zstd, partition_by (period_id), overwrite_or_ignore true);
copy (select * from income_statement) to 'exports/reporting/income_statement'
    (format parquet, compression zstd, partition_by (period_id), overwrite_or_ignore true);
copy (select * from balance_sheet) to 'exports/reporting/balance_sheet'
    (format parquet, compression zstd, partition_by (period_id), overwrite_or_ignore true);
copy (select * from gl_lines) to 'exports/reporting/fct_gl_journal_lines'
    (format parquet, compression zstd, partition_by (period_id), overwrite_or_ignore true);
copy (
    select
        gl_lines.period_id,
        gl_lines.entity_code as "Entity", gl_lines.account_code as "Account",
        coalesce(gl_lines.cost_center_code, 'NONE') as "Cost_Center",
        strftime(fiscal_periods.period_start_date, '%b %y') as "Month",
        gl_lines.currency_functional as "Currency",
        sum(gl_lines.amount_functional) as "Amount", sum(gl_lines.amount_group) as "Amount_Group"
    from gl_lines
    inner join accounts on gl_lines.account_code = accounts.account_code
    inner join fiscal_periods on gl_lines.period_id = fiscal_periods.period_id
    where accounts.statement = 'PL'
    group by all
    order by all
) to 'exports/fpa/actuals' (format csv, header true, partition_by (period_id), overwrite_or_ignore true);
