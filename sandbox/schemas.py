"""Arrow schemas of every extract the demo enterprise writes.

This module is the contract between the generator (`sandbox.generate`), the
ingest pipelines (`ingest/`) and the dbt sources (`dbt_project/models/staging`).
Column names follow each vendor's own shape (S/4HANA, a Brazilian regional ERP,
Workday, Salesforce, Anaplan) so that swapping the simulator for the real system
is a configuration change. dlt normalises them to snake_case in `raw_<source>`
(`CompanyCode` -> `company_code`, `Legal_Entity__c` -> `legal_entity_c`).
"""

from __future__ import annotations

import pyarrow as pa

AMOUNT = pa.decimal128(18, 2)
RATE = pa.decimal128(18, 8)
TS = pa.timestamp("us", tz="UTC")

# ---------------------------------------------------------------- group ERP (S/4HANA-like)

COMPANY_CODES = pa.schema(
    [
        ("CompanyCode", pa.string()),
        ("CompanyCodeName", pa.string()),
        ("Country", pa.string()),
        ("Currency", pa.string()),  # functional currency
        ("Region", pa.string()),  # AMER, EMEA, APAC, LATAM
        ("ConsolidationParent", pa.string()),  # null for the group parent
        ("AccountingSystem", pa.string()),  # S4 or REGIONAL
        ("LastChangeDateTime", TS),
    ]
)

FINANCIAL_STATEMENT_ITEMS = pa.schema(
    [
        ("FinancialStatementItem", pa.string()),  # leaf line of the statement hierarchy
        ("ItemName", pa.string()),
        ("Statement", pa.string()),  # BS or PL
        ("Section", pa.string()),  # Assets, Liabilities, Equity, Revenue, COGS, ...
        ("NormalBalance", pa.string()),  # D or C
        ("SortOrder", pa.int32()),
    ]
)

GL_ACCOUNTS = pa.schema(
    [
        ("GLAccount", pa.string()),  # 6 digits
        ("GLAccountName", pa.string()),
        ("GLAccountType", pa.string()),  # X balance sheet, P profit and loss
        ("FinancialStatementItem", pa.string()),
        ("IsIntercompany", pa.bool_()),
        ("LastChangeDateTime", TS),
    ]
)

COST_CENTER_NODES = pa.schema(
    [
        ("Node", pa.string()),
        ("ParentNode", pa.string()),  # null at the root
        ("NodeName", pa.string()),
        ("Level", pa.int32()),  # 1 root, 2 function
    ]
)

COST_CENTERS = pa.schema(
    [
        ("CostCenter", pa.string()),
        ("CompanyCode", pa.string()),
        ("CostCenterName", pa.string()),
        ("HierarchyNode", pa.string()),  # a level-2 node of COST_CENTER_NODES
        ("PersonResponsible", pa.string()),
        ("LastChangeDateTime", TS),
    ]
)

PRODUCTS = pa.schema(
    [
        ("Product", pa.string()),
        ("ProductName", pa.string()),
        ("ProductFamily", pa.string()),
        ("ProductLine", pa.string()),  # parent of the family
        ("LastChangeDateTime", TS),
    ]
)

PROJECTS = pa.schema(
    [
        ("Project", pa.string()),
        ("ProjectName", pa.string()),
        ("CompanyCode", pa.string()),
        ("ProjectType", pa.string()),  # CAPEX, RND, CUSTOMER
        ("StartDate", pa.date32()),
        ("EndDate", pa.date32()),
        ("LastChangeDateTime", TS),
    ]
)

FX_RATES = pa.schema(
    [
        ("ExchangeRateType", pa.string()),  # M: daily middle rate
        ("FromCurrency", pa.string()),
        ("ToCurrency", pa.string()),
        ("ValidFrom", pa.date32()),  # every calendar day
        ("ExchangeRate", RATE),  # 1 FromCurrency = ExchangeRate ToCurrency
    ]
)

JOURNAL_ITEMS = pa.schema(
    [
        ("CompanyCode", pa.string()),
        ("FiscalYear", pa.int32()),
        ("FiscalPeriod", pa.int32()),  # 1..12, period 1 starts in FISCAL_YEAR_START_MONTH
        ("AccountingDocument", pa.string()),
        ("LedgerGLLineItem", pa.int32()),
        ("AccountingDocumentType", pa.string()),
        ("PostingDate", pa.date32()),
        ("DocumentDate", pa.date32()),
        ("GLAccount", pa.string()),
        ("CostCenter", pa.string()),
        ("Product", pa.string()),
        ("Project", pa.string()),
        ("PartnerCompany", pa.string()),  # trading partner on intercompany lines
        ("Customer", pa.string()),  # CRM account id on receivable and revenue lines
        ("TransactionCurrency", pa.string()),
        ("AmountInTransactionCurrency", AMOUNT),  # debit positive, credit negative
        ("CompanyCodeCurrency", pa.string()),
        ("AmountInCompanyCodeCurrency", AMOUNT),
        ("DebitCreditCode", pa.string()),  # S debit, H credit
        ("ReversalReferenceDocument", pa.string()),  # document this one reverses
        ("ReferenceDocument", pa.string()),  # opportunity id, payroll run, IC reference
        ("DocumentItemText", pa.string()),
        ("LastChangeDateTime", TS),
    ]
)

# ---------------------------------------------------------------- regional ERP (CSV drops)
# Semicolon separated, decimal comma, dates dd/mm/yyyy, UTF-8, header row.

REGIONAL_ACCOUNTS = pa.schema(
    [
        ("conta", pa.string()),  # local account code, e.g. 3.1.01.002
        ("descricao", pa.string()),
        ("natureza", pa.string()),  # D or C
    ]
)

REGIONAL_COST_CENTERS = pa.schema(
    [
        ("centro_custo", pa.string()),
        ("descricao", pa.string()),
        ("responsavel", pa.string()),
    ]
)

REGIONAL_JOURNAL_LINES = pa.schema(
    [
        ("empresa", pa.string()),  # local company code, mapped by seed
        ("numero_lancamento", pa.string()),
        ("linha", pa.int32()),
        ("tipo", pa.string()),  # document type in the regional system
        ("data_lancamento", pa.date32()),
        ("conta", pa.string()),
        ("centro_custo", pa.string()),
        ("parceiro", pa.string()),  # group company code of an intercompany partner
        ("moeda", pa.string()),  # transaction currency
        ("valor_moeda", AMOUNT),  # signed transaction amount, debit positive
        ("debito_brl", AMOUNT),  # functional amount, one of debit/credit is zero
        ("credito_brl", AMOUNT),
        ("estorno_de", pa.string()),  # document this one reverses
        ("historico", pa.string()),
    ]
)

# ---------------------------------------------------------------- payroll (Workday-like)

WORKERS = pa.schema(
    [
        ("Worker_ID", pa.string()),
        ("Legal_Name", pa.string()),  # PII
        ("National_ID", pa.string()),  # PII
        ("Bank_Account", pa.string()),  # PII
        ("Company", pa.string()),
        ("Cost_Center", pa.string()),  # group cost center code
        ("Job_Profile", pa.string()),
        ("Hire_Date", pa.date32()),
        ("Termination_Date", pa.date32()),
        ("Last_Updated", TS),
    ]
)

PAYROLL_RESULTS = pa.schema(
    [
        ("Payroll_Result_ID", pa.string()),
        ("Worker_ID", pa.string()),
        ("Company", pa.string()),
        ("Cost_Center", pa.string()),
        ("Pay_Period_Start", pa.date32()),
        ("Pay_Period_End", pa.date32()),
        ("Payment_Date", pa.date32()),
        ("Currency", pa.string()),
        ("Gross_Earnings", AMOUNT),
        ("Employer_Taxes", AMOUNT),
        ("Benefits", AMOUNT),
        ("Last_Updated", TS),
    ]
)

# ---------------------------------------------------------------- CRM (Salesforce-like)

CRM_ACCOUNTS = pa.schema(
    [
        ("Id", pa.string()),
        ("Name", pa.string()),
        ("BillingCountry", pa.string()),
        ("Industry", pa.string()),
        ("Legal_Entity__c", pa.string()),
        ("CreatedDate", TS),
        ("LastModifiedDate", TS),
    ]
)

OPPORTUNITIES = pa.schema(
    [
        ("Id", pa.string()),
        ("AccountId", pa.string()),
        ("Name", pa.string()),
        ("Legal_Entity__c", pa.string()),
        ("Product_Family__c", pa.string()),
        ("Amount", AMOUNT),
        ("CurrencyIsoCode", pa.string()),
        ("StageName", pa.string()),
        ("Probability", pa.int32()),  # percent
        ("ForecastCategoryName", pa.string()),  # Pipeline, Best Case, Commit, Closed, Omitted
        ("CloseDate", pa.date32()),
        ("IsClosed", pa.bool_()),
        ("IsWon", pa.bool_()),
        ("CreatedDate", TS),
        ("LastModifiedDate", TS),
    ]
)

# ---------------------------------------------------------------- FP&A (Anaplan-like)

PLAN_VERSIONS = pa.schema(
    [
        ("Version", pa.string()),  # BUD_FY2026, FC1_FY2026 (3+9), FC2_FY2026 (6+6)
        ("Version_Name", pa.string()),
        ("Version_Type", pa.string()),  # Budget or Forecast
        ("Fiscal_Year", pa.int32()),
        ("Status", pa.string()),  # Draft, Submitted, Approved
        ("Submitted_At", TS),
    ]
)

PLAN_LINES = pa.schema(
    [
        ("Version", pa.string()),
        ("Entity", pa.string()),
        ("Account", pa.string()),  # group P&L account
        ("Cost_Center", pa.string()),  # group cost center code
        ("Month", pa.string()),  # Anaplan time member, e.g. "Apr 25"
        ("Currency", pa.string()),  # the entity's functional currency
        ("Amount", AMOUNT),  # signed like the GL: expense positive, revenue negative
    ]
)
