-- The floor: finsync's published products with no framework at all, in one
-- DuckDB script. It loads the same extract files, books the same journal lines
-- (regional codes mapped, whole documents refused on a bad line), translates
-- them the same way (daily rates for lines, average/closing/historical rates
-- and the CTA for balances), builds the payroll, CRM and planning products by
-- the same rules (small workforce groups folded up the cost center hierarchy,
-- only the latest approved plan versions reported) and writes the same period
-- files. No dedup of re-sent rows, no history, no pseudonymised keys, no tests,
-- no lineage: the least any pipeline does. So headcount counts worker ids, not
-- keys, and a cost center's owner is today's, not the snapshot's of the period.
-- Its products have every column of finsync's (its lineage aside): the GL lines, ten
-- million at scale 10, too (bench/agreement.py, missing_columns).
--
-- bench/floor.py sets two variables first: `extracts` (the demo enterprise's
-- extract folder) and `seeds` (dbt_project/seeds, the regional code mappings);
-- exports are written under the working directory.

set variable group_currency = 'USD';
set variable fiscal_year_start_month = 4;
set variable retained_earnings = '330000';
set variable cta = '340000';
set variable intercompany_pl_difference = '721000';
set variable workforce_min_group_size = 3;

---------- load
create table journal_items as
select * from read_parquet(getvariable('extracts') || '/erp/journal_items/*.parquet');

create table regional_lines as
select * from read_csv(
    getvariable('extracts') || '/regional_erp/drops/*.csv',
    delim = ';', decimal_separator = ',', dateformat = '%d/%m/%Y', header = true, filename = true,
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

create table cost_centers as
select * from read_parquet(getvariable('extracts') || '/erp/cost_centers.parquet');

create table cost_center_nodes as
select * from read_parquet(getvariable('extracts') || '/erp/cost_center_nodes.parquet');

create table payroll_results as
select * from read_parquet(getvariable('extracts') || '/payroll/payroll_results.parquet');

create table opportunities as
select * from read_parquet(getvariable('extracts') || '/crm/opportunities.parquet');

create table plan_versions as
select * from read_json(getvariable('extracts') || '/fpa/plan_versions.jsonl', format = 'newline_delimited');

create table plan_lines as
select * from read_parquet(getvariable('extracts') || '/fpa/plan_lines.parquet');

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

---------- journal lines in group codes; a document with a bad line is refused whole.
-- The GL lines carry the fact's columns, as BI reads them (all but finsync's lineage,
-- _built_at and _staged_load_id). A view: the lines are written once, in gl_lines (a
-- table here too wrote ten million wide rows twice: 19 s of products at scale 10, not 12)
create view journal_lines as
select
    'erp' as source_system,
    'erp|' || CompanyCode || '|' || FiscalYear || '|' || AccountingDocument || '|' || LedgerGLLineItem
        as journal_line_key,
    'erp|' || CompanyCode || '|' || FiscalYear || '|' || AccountingDocument as document_key,
    CompanyCode as entity_code, AccountingDocument as document_number, LedgerGLLineItem as line_number,
    AccountingDocumentType as document_type, PostingDate as posting_date, DocumentDate as document_date,
    GLAccount as account_code, null as local_account_code,
    CostCenter as cost_center_code, null as local_cost_center_code,
    Product as product_code, Project as project_code, PartnerCompany as partner_entity_code,
    Customer as customer_id, ReferenceDocument as reference_document,
    ReversalReferenceDocument as reversed_document_number, DocumentItemText as line_text,
    TransactionCurrency as currency_txn, AmountInTransactionCurrency as amount_txn,
    CompanyCodeCurrency as currency_functional, AmountInCompanyCodeCurrency as amount_functional,
    null as source_file_name
from journal_items
union all
select
    'regional_erp',
    'regional_erp|' || empresa || '|' || numero_lancamento || '|' || linha,
    'regional_erp|' || empresa || '|' || numero_lancamento,
    coalesce(map_companies.group_company_code, 'UNMAPPED'), numero_lancamento, linha,
    tipo, data_lancamento, null,
    case when conta is not null then coalesce(map_accounts.group_account_code, 'UNMAPPED') end, conta,
    case when centro_custo is not null then coalesce(map_cost_centers.group_cost_center_code, 'UNMAPPED') end,
    centro_custo,
    null, null, parceiro,
    null, null,
    estorno_de, historico,
    moeda, valor_moeda,
    company_codes.Currency, cast(debito_brl - credito_brl as decimal(18, 2)),
    parse_filename(filename)
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
    journal_lines.journal_line_key, journal_lines.document_key, journal_lines.source_system,
    journal_lines.entity_code, fiscal_periods.period_id, journal_lines.document_number,
    journal_lines.line_number, journal_lines.account_code, journal_lines.local_account_code,
    journal_lines.cost_center_code, journal_lines.local_cost_center_code, journal_lines.product_code,
    journal_lines.project_code, journal_lines.partner_entity_code, journal_lines.customer_id,
    journal_lines.reference_document, journal_lines.reversed_document_number,
    journal_lines.document_type, journal_lines.line_text, journal_lines.source_file_name,
    journal_lines.posting_date, journal_lines.document_date,
    cast(fiscal_periods.fiscal_year as integer) as fiscal_year, fiscal_periods.fiscal_period,
    journal_lines.currency_txn, journal_lines.amount_txn,
    journal_lines.currency_functional, journal_lines.amount_functional,
    getvariable('group_currency') as currency_group,
    daily_rates.rate_to_group as fx_rate_functional_to_group,
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

-- each account's balance sheet line: a P&L account's is current-year earnings, after the
-- last equity line
create table balance_sheet_lines as
select
    account_code,
    case when statement = 'PL' then 'Equity' else section end as section,
    case when statement = 'PL' then 'CURRENT_YEAR_EARNINGS' else statement_line_code end
        as statement_line_code,
    case when statement = 'PL' then 'Current-year earnings' else statement_line_name end
        as statement_line_name,
    case when statement = 'PL'
        then (select max(statement_line_sort_order) + 1 from accounts where section = 'Equity')
        else statement_line_sort_order end as statement_line_sort_order
from accounts;

create table balance_sheet as
with lines as (
    select
        tb.entity_code, tb.period_id, tb.fiscal_year, tb.fiscal_period, line.section,
        line.statement_line_code, line.statement_line_name, line.statement_line_sort_order,
        tb.currency_functional, tb.currency_group,
        sum(tb.closing_functional) as balance_functional, sum(tb.closing_group) as balance_group
    from trial_balance as tb
    inner join balance_sheet_lines as line on tb.account_code = line.account_code
    group by all
)
select
    entity_code, period_id, statement_line_code, fiscal_year, fiscal_period, section,
    statement_line_name, statement_line_sort_order, currency_functional,
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
select eliminations.*, fiscal_periods.fiscal_year, fiscal_periods.fiscal_period,
    getvariable('group_currency') as currency_group
from (
    select period_id, pair_code, elimination_type, 'leg' as elimination_line, entity_code,
        partner_entity_code, account_code, amount_period_group, amount_closing_group
    from intercompany
    union all
    select period_id, pair_code, elimination_type, 'difference',
        (select CompanyCode from company_codes where ConsolidationParent is null), null,
        case when elimination_type = 'balances' then getvariable('cta') else getvariable('intercompany_pl_difference') end,
        -sum(amount_period_group), -sum(amount_closing_group)
    from intercompany
    group by period_id, pair_code, elimination_type
) as eliminations
inner join fiscal_periods on eliminations.period_id = fiscal_periods.period_id;

create table consolidated_income_statement as
with amounts as (
    select account_code, period_id, movement_group as entities_period_group, closing_group as entities_ytd_group,
        0 as eliminations_period_group, 0 as eliminations_ytd_group
    from trial_balance
    union all
    select account_code, period_id, 0, 0, amount_period_group, amount_closing_group
    from consolidation_eliminations where elimination_type = 'revenue_and_expense'
),
by_line as (
    select
        amounts.period_id, accounts.statement_line_code, accounts.section, accounts.statement_line_name,
        accounts.statement_line_sort_order,
        sum(entities_period_group) as entities_period_group, sum(eliminations_period_group) as eliminations_period_group,
        sum(entities_ytd_group) as entities_ytd_group, sum(eliminations_ytd_group) as eliminations_ytd_group
    from amounts
    inner join accounts on amounts.account_code = accounts.account_code
    where accounts.statement = 'PL'
    group by all
)
select
    by_line.period_id, statement_line_code, fiscal_year, fiscal_period, section, statement_line_name,
    statement_line_sort_order, getvariable('group_currency') as currency_group,
    cast(-entities_period_group as decimal(18, 2)) as amount_period_entities_group,
    cast(-eliminations_period_group as decimal(18, 2)) as amount_period_eliminations_group,
    cast(-(entities_period_group + eliminations_period_group) as decimal(18, 2)) as amount_period_group,
    cast(-entities_ytd_group as decimal(18, 2)) as amount_ytd_entities_group,
    cast(-eliminations_ytd_group as decimal(18, 2)) as amount_ytd_eliminations_group,
    cast(-(entities_ytd_group + eliminations_ytd_group) as decimal(18, 2)) as amount_ytd_group
from by_line
inner join fiscal_periods on by_line.period_id = fiscal_periods.period_id;

create table consolidated_balance_sheet as
with amounts as (
    select account_code, period_id, closing_group as entities_group, 0 as eliminations_group from trial_balance
    union all
    select account_code, period_id, 0, amount_closing_group from consolidation_eliminations
),
by_line as (
    select
        amounts.period_id, line.statement_line_code, line.section, line.statement_line_name,
        line.statement_line_sort_order,
        sum(entities_group) as entities_group, sum(eliminations_group) as eliminations_group
    from amounts
    inner join balance_sheet_lines as line on amounts.account_code = line.account_code
    group by all
)
select
    by_line.period_id, statement_line_code, fiscal_year, fiscal_period, section, statement_line_name,
    statement_line_sort_order, getvariable('group_currency') as currency_group,
    cast(entities_group as decimal(18, 2)) as balance_entities_group,
    cast(eliminations_group as decimal(18, 2)) as balance_eliminations_group,
    cast(entities_group + eliminations_group as decimal(18, 2)) as balance_group,
    cast(case when section = 'Assets' then entities_group + eliminations_group
        else -(entities_group + eliminations_group) end as decimal(18, 2)) as amount_group
from by_line
inner join fiscal_periods on by_line.period_id = fiscal_periods.period_id;

---------- workforce drivers: payroll by cost center and period; a group of fewer than
-- workforce_min_group_size workers is folded into its hierarchy node, then the root,
-- and a root still too small keeps its row with the numbers withheld
create table workforce_cost_drivers as
with results as (
    select
        payroll_results.Worker_ID as worker_id, payroll_results.Company as entity_code,
        payroll_results.Cost_Center as cost_center_code,
        coalesce(cost_centers.HierarchyNode, 'UNASSIGNED') as node_code,
        coalesce(cost_center_nodes.ParentNode, cost_centers.HierarchyNode, 'UNASSIGNED') as root_node_code,
        fiscal_periods.period_id, fiscal_periods.fiscal_year, fiscal_periods.fiscal_period,
        payroll_results.Currency as currency_functional,
        payroll_results.Gross_Earnings as gross_earnings_functional,
        payroll_results.Employer_Taxes as employer_taxes_functional,
        payroll_results.Benefits as benefits_functional
    from payroll_results
    inner join fiscal_periods
        on payroll_results.Pay_Period_End between fiscal_periods.period_start_date and fiscal_periods.period_end_date
    left join cost_centers on payroll_results.Cost_Center = cost_centers.CostCenter
    left join cost_center_nodes on cost_centers.HierarchyNode = cost_center_nodes.Node
),
cost_center_sizes as (
    select entity_code, cost_center_code, period_id, count(distinct worker_id) as cost_center_workers
    from results group by all
),
sized as (
    select * from results inner join cost_center_sizes using (entity_code, cost_center_code, period_id)
),
node_sizes as (
    select entity_code, node_code, period_id, count(distinct worker_id) as node_workers
    from sized where cost_center_workers < getvariable('workforce_min_group_size') group by all
),
root_sizes as (
    select entity_code, root_node_code, period_id, count(distinct worker_id) as root_workers
    from sized inner join node_sizes using (entity_code, node_code, period_id)
    where cost_center_workers < getvariable('workforce_min_group_size')
        and node_workers < getvariable('workforce_min_group_size')
    group by all
),
placed as (
    select
        sized.*,
        case
            when cost_center_workers >= getvariable('workforce_min_group_size') then sized.cost_center_code
            when node_workers >= getvariable('workforce_min_group_size') then sized.node_code
            else sized.root_node_code
        end as reporting_unit_code,
        case
            when cost_center_workers >= getvariable('workforce_min_group_size') then 'cost_center'
            when node_workers >= getvariable('workforce_min_group_size') then 'node'
            else 'root'
        end as reporting_level,
        coalesce(root_workers < getvariable('workforce_min_group_size'), false) as is_suppressed
    from sized
    left join node_sizes
        on sized.entity_code = node_sizes.entity_code and sized.node_code = node_sizes.node_code
            and sized.period_id = node_sizes.period_id
    left join root_sizes
        on sized.entity_code = root_sizes.entity_code and sized.root_node_code = root_sizes.root_node_code
            and sized.period_id = root_sizes.period_id
            and cost_center_workers < getvariable('workforce_min_group_size')
            and node_workers < getvariable('workforce_min_group_size')
),
by_unit as (
    select
        entity_code, reporting_unit_code as cost_center_code, period_id, fiscal_year, fiscal_period,
        reporting_level, is_suppressed, currency_functional,
        count(distinct worker_id) as headcount,
        sum(gross_earnings_functional) as gross_earnings_functional,
        sum(employer_taxes_functional) as employer_taxes_functional,
        sum(benefits_functional) as benefits_functional
    from placed group by all
)
select
    entity_code, cost_center_code, period_id, fiscal_year, fiscal_period, reporting_level, is_suppressed,
    cast(case when not is_suppressed then headcount end as integer) as headcount,
    currency_functional,
    cast(case when not is_suppressed then gross_earnings_functional end as decimal(18, 2))
        as gross_earnings_functional,
    cast(case when not is_suppressed then employer_taxes_functional end as decimal(18, 2))
        as employer_taxes_functional,
    cast(case when not is_suppressed then benefits_functional end as decimal(18, 2)) as benefits_functional,
    cast(case when not is_suppressed
        then gross_earnings_functional + employer_taxes_functional + benefits_functional end as decimal(18, 2))
        as workforce_cost_functional,
    cast(case when not is_suppressed
        then (gross_earnings_functional + employer_taxes_functional + benefits_functional) / headcount end
        as decimal(18, 2)) as cost_per_head_functional
from by_unit;

---------- revenue pipeline drivers: open opportunities by expected close period
create table revenue_pipeline_drivers as
with open_opportunities as (
    select
        *,
        year(CloseDate) + case when month(CloseDate) >= getvariable('fiscal_year_start_month') then 1 else 0 end
            as fiscal_year,
        cast((month(CloseDate) - getvariable('fiscal_year_start_month') + 12) % 12 + 1 as integer)
            as fiscal_period
    from opportunities
    where not IsClosed
)
select
    Legal_Entity__c as entity_code,
    fiscal_year || '-P' || lpad(cast(fiscal_period as varchar), 2, '0') as period_id,
    Product_Family__c as product_family, CurrencyIsoCode as currency_txn, fiscal_year, fiscal_period,
    cast(count(*) as integer) as open_opportunities,
    cast(sum(Amount) as decimal(18, 2)) as amount_pipeline_txn,
    cast(sum(Amount * Probability * 0.01) as decimal(18, 2)) as amount_weighted_pipeline_txn,
    cast(sum(case when ForecastCategoryName = 'Commit' then Amount else 0 end) as decimal(18, 2))
        as amount_commit_txn
from open_opportunities
group by all;

---------- plan: every version's lines; per fiscal year and type the latest approved one reports
create table fct_plan as
with months as (
    select *, strptime('01 ' || Month, '%d %b %y') as month_start
    from plan_lines
),
lines as (
    select
        *,
        cast(year(month_start) + case when month(month_start) >= getvariable('fiscal_year_start_month') then 1 else 0 end
            as integer) as fiscal_year,
        cast((month(month_start) - getvariable('fiscal_year_start_month') + 12) % 12 + 1 as integer) as fiscal_period
    from months
),
approved as (
    select
        Version,
        row_number() over (partition by Fiscal_Year, Version_Type order by Submitted_At desc, Version desc)
            as recency
    from plan_versions
    where Status = 'Approved'
)
select
    lines.Version as plan_version_code, lines.Entity as entity_code, lines.Account as account_code,
    lines.Cost_Center as cost_center_code,
    lines.fiscal_year || '-P' || lpad(cast(lines.fiscal_period as varchar), 2, '0') as period_id,
    plan_versions.Version_Name as plan_version_name, plan_versions.Version_Type as plan_version_type,
    lower(plan_versions.Status) as plan_version_status,
    cast(plan_versions.Fiscal_Year as integer) as plan_version_fiscal_year,
    coalesce(approved.recency = 1, false) as is_reporting_version,
    lines.fiscal_year, lines.fiscal_period,
    lines.Currency as currency_functional, lines.Amount as amount_functional,
    plan_versions.Submitted_At as submitted_at
from lines
left join plan_versions on lines.Version = plan_versions.Version
left join approved on lines.Version = approved.Version;

---------- P&L actuals by cost center and period, for budget_vs_actual and the planning tool
create table pl_actuals as
select
    gl_lines.period_id, gl_lines.entity_code, gl_lines.account_code,
    coalesce(gl_lines.cost_center_code, 'NONE') as cost_center_code, gl_lines.currency_functional,
    sum(gl_lines.amount_functional) as amount_functional
from gl_lines
inner join accounts on gl_lines.account_code = accounts.account_code
where accounts.statement = 'PL'
group by all;

---------- budget vs actual: P&L actuals against the reporting budget and forecast
create table budget_vs_actual as
with by_key as (
    select entity_code, account_code, cost_center_code, period_id,
        sum(actual) as actual_functional, sum(budget) as budget_functional, sum(forecast) as forecast_functional
    from (
        select entity_code, account_code, cost_center_code, period_id,
            amount_functional as actual, 0 as budget, 0 as forecast
        from pl_actuals
        union all
        select entity_code, account_code, cost_center_code, period_id, 0,
            case when plan_version_type = 'Budget' then amount_functional else 0 end,
            case when plan_version_type = 'Forecast' then amount_functional else 0 end
        from fct_plan
        where is_reporting_version
    )
    group by all
),
versions as (
    select fiscal_year,
        max(case when plan_version_type = 'Budget' then plan_version_code end) as budget_version_code,
        max(case when plan_version_type = 'Forecast' then plan_version_code end) as forecast_version_code
    from fct_plan where is_reporting_version group by all
),
year_to_date as (
    select by_key.*, fiscal_periods.fiscal_year, fiscal_periods.fiscal_period,
        sum(actual_functional) over ytd as actual_ytd_functional,
        sum(budget_functional) over ytd as budget_ytd_functional,
        sum(forecast_functional) over ytd as forecast_ytd_functional
    from by_key
    inner join fiscal_periods on by_key.period_id = fiscal_periods.period_id
    window ytd as (
        partition by entity_code, account_code, cost_center_code, fiscal_periods.fiscal_year
        order by fiscal_periods.period_index rows between unbounded preceding and current row
    )
)
select
    ytd.entity_code, ytd.account_code, ytd.cost_center_code, ytd.period_id,
    versions.budget_version_code, versions.forecast_version_code,
    cost_centers.PersonResponsible as cost_center_owner,
    ytd.fiscal_year, ytd.fiscal_period, company_codes.Currency as currency_functional,
    cast(actual_functional as decimal(18, 2)) as amount_actual_functional,
    cast(budget_functional as decimal(18, 2)) as amount_budget_functional,
    cast(forecast_functional as decimal(18, 2)) as amount_forecast_functional,
    cast(actual_functional - budget_functional as decimal(18, 2)) as variance_budget_functional,
    cast(case when budget_functional <> 0
        then 100.0 * (actual_functional - budget_functional) / abs(budget_functional) end as decimal(18, 2))
        as variance_budget_percent,
    cast(actual_functional - forecast_functional as decimal(18, 2)) as variance_forecast_functional,
    cast(case when forecast_functional <> 0
        then 100.0 * (actual_functional - forecast_functional) / abs(forecast_functional) end as decimal(18, 2))
        as variance_forecast_percent,
    cast(actual_ytd_functional as decimal(18, 2)) as amount_actual_ytd_functional,
    cast(budget_ytd_functional as decimal(18, 2)) as amount_budget_ytd_functional,
    cast(forecast_ytd_functional as decimal(18, 2)) as amount_forecast_ytd_functional,
    cast(actual_ytd_functional - budget_ytd_functional as decimal(18, 2)) as variance_budget_ytd_functional,
    cast(case when budget_ytd_functional <> 0
        then 100.0 * (actual_ytd_functional - budget_ytd_functional) / abs(budget_ytd_functional) end
        as decimal(18, 2)) as variance_budget_ytd_percent,
    cast(actual_ytd_functional - forecast_ytd_functional as decimal(18, 2)) as variance_forecast_ytd_functional
from year_to_date as ytd
left join versions on ytd.fiscal_year = versions.fiscal_year
left join company_codes on ytd.entity_code = company_codes.CompanyCode
left join cost_centers on ytd.cost_center_code = cost_centers.CostCenter;

---------- exports: one file per fiscal period, as finsync publishes them
copy (select * from trial_balance) to 'exports/reporting/trial_balance'
    (format parquet, compression zstd, compression_level 1, partition_by (period_id), overwrite_or_ignore true);
copy (select * from income_statement) to 'exports/reporting/income_statement'
    (format parquet, compression zstd, compression_level 1, partition_by (period_id), overwrite_or_ignore true);
copy (select * from balance_sheet) to 'exports/reporting/balance_sheet'
    (format parquet, compression zstd, compression_level 1, partition_by (period_id), overwrite_or_ignore true);
copy (select * from gl_lines) to 'exports/reporting/fct_gl_journal_lines'
    (format parquet, compression zstd, compression_level 1, partition_by (period_id), overwrite_or_ignore true);
-- P&L actuals for the planning tool: functional amounts, and group amounts at the period's
-- average rate with an account's rounding cent on its largest cost center (as finsync's)
copy (
    with lines as (
        select period_id, entity_code, account_code, cost_center_code, currency_functional,
            amount_functional as amount
        from pl_actuals
    ),
    translated as (
        select
            lines.*,
            round(lines.amount * period_rates.average_rate, 2) as amount_group,
            round(sum(lines.amount) over account * period_rates.average_rate, 2)
                - sum(round(lines.amount * period_rates.average_rate, 2)) over account as rounding,
            row_number() over (
                partition by lines.period_id, lines.entity_code, lines.account_code
                order by abs(lines.amount) desc, lines.cost_center_code
            ) as largest
        from lines
        left join period_rates
            on lines.currency_functional = period_rates.currency_code and lines.period_id = period_rates.period_id
        window account as (partition by lines.period_id, lines.entity_code, lines.account_code)
    )
    select
        translated.period_id,
        entity_code as "Entity", account_code as "Account", cost_center_code as "Cost_Center",
        strftime(fiscal_periods.period_start_date, '%b %y') as "Month", currency_functional as "Currency",
        amount as "Amount",
        cast(amount_group + case when largest = 1 then rounding else 0 end as decimal(18, 2)) as "Amount_Group"
    from translated
    inner join fiscal_periods on translated.period_id = fiscal_periods.period_id
    order by translated.period_id, "Entity", "Account", "Cost_Center"
) to 'exports/fpa/actuals' (format csv, header true, partition_by (period_id), overwrite_or_ignore true);
copy (select * from fct_plan) to 'exports/reporting/fct_plan'
    (format parquet, compression zstd, compression_level 1, partition_by (period_id), overwrite_or_ignore true);
copy (select * from budget_vs_actual) to 'exports/reporting/budget_vs_actual'
    (format parquet, compression zstd, compression_level 1, partition_by (period_id), overwrite_or_ignore true);
copy (
    select
        workforce_cost_drivers.period_id,
        entity_code as "Entity", coalesce(cost_center_code, 'NONE') as "Cost_Center",
        strftime(fiscal_periods.period_start_date, '%b %y') as "Month", currency_functional as "Currency",
        headcount as "Headcount", gross_earnings_functional as "Gross_Earnings",
        employer_taxes_functional as "Employer_Taxes", benefits_functional as "Benefits",
        workforce_cost_functional as "Workforce_Cost"
    from workforce_cost_drivers
    inner join fiscal_periods on workforce_cost_drivers.period_id = fiscal_periods.period_id
    order by all
) to 'exports/fpa/workforce' (format csv, header true, partition_by (period_id), overwrite_or_ignore true);
copy (
    select
        entity_code as "Entity",
        strftime(make_date(
            fiscal_year - case when fiscal_period <= 13 - getvariable('fiscal_year_start_month') then 1 else 0 end,
            (fiscal_period + getvariable('fiscal_year_start_month') - 2) % 12 + 1, 1
        ), '%b %y') as "Month",
        product_family as "Product_Family", currency_txn as "Currency",
        open_opportunities as "Open_Opportunities", amount_pipeline_txn as "Pipeline",
        amount_weighted_pipeline_txn as "Weighted_Pipeline", amount_commit_txn as "Commit"
    from revenue_pipeline_drivers
    order by fiscal_year, fiscal_period, "Entity", "Product_Family", "Currency"
) to 'exports/fpa/pipeline.csv' (format csv, header true);
