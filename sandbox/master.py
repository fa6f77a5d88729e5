"""Master data of Finsync Group: companies, currencies, chart of accounts with its
statement hierarchy, cost centers, products and projects.

Everything here is static (independent of seed and scale) except the projects'
dates and owners, so that mappings and seeds built from it never drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sandbox import schemas
from sandbox.calendar import day

# Extract timestamp of master data: the day before the history starts.
MASTER_CHANGED_US = day("2024-03-31") * 86_400_000_000

CURRENCIES = ("USD", "EUR", "GBP", "JPY", "BRL")
# Amounts are held as int64 hundredths; a currency's smallest unit in hundredths.
UNIT = np.array([1, 1, 1, 100, 1], dtype=np.int64)
GROUP_CURRENCY = "USD"
# Foreign transaction currencies a company sometimes sells or buys in.
FOREIGN_CURRENCIES = {
    "US01": ("EUR", "GBP", "JPY"),
    "US02": ("EUR",),
    "DE01": ("USD", "GBP"),
    "FR01": ("USD",),
    "GB01": ("USD", "EUR"),
    "JP01": ("USD",),
    "BR01": ("USD",),
}


@dataclass(frozen=True)
class Company:
    code: str
    name: str
    country: str
    currency: str
    region: str
    system: str  # S4 or REGIONAL
    weight: float  # share of the group's journal volume
    revenue: float  # monthly revenue in functional currency, start of history
    tax_rate: float
    payroll_tax_rate: float
    benefit_rate: float
    ic_fee_usd: float  # monthly management fee charged by US01 (0 for US01)

    @property
    def currency_idx(self) -> int:
        return CURRENCIES.index(self.currency)


COMPANIES: tuple[Company, ...] = (
    Company(
        "US01",
        "Finsync Holdings Inc.",
        "US",
        "USD",
        "AMER",
        "S4",
        0.20,
        6.0e6,
        0.21,
        0.0765,
        0.11,
        0,
    ),
    Company(
        "US02",
        "Finsync Services LLC",
        "US",
        "USD",
        "AMER",
        "S4",
        0.12,
        3.0e6,
        0.21,
        0.0765,
        0.10,
        60e3,
    ),
    Company(
        "DE01", "Finsync GmbH", "DE", "EUR", "EMEA", "S4", 0.16, 4.0e6, 0.30, 0.205, 0.05, 120e3
    ),
    Company("FR01", "Finsync SAS", "FR", "EUR", "EMEA", "S4", 0.12, 3.0e6, 0.25, 0.42, 0.04, 90e3),
    Company("GB01", "Finsync Ltd", "GB", "GBP", "EMEA", "S4", 0.15, 2.5e6, 0.25, 0.138, 0.05, 80e3),
    Company("JP01", "Finsync KK", "JP", "JPY", "APAC", "S4", 0.15, 5.0e8, 0.30, 0.15, 0.04, 100e3),
    Company(
        "BR01",
        "Finsync Brasil Ltda",
        "BR",
        "BRL",
        "LATAM",
        "REGIONAL",
        0.10,
        1.2e7,
        0.34,
        0.28,
        0.06,
        70e3,
    ),
)
COMPANY_CODES = tuple(c.code for c in COMPANIES)
PARENT = "US01"
REGIONAL_COMPANY = "BR01"
COMPANY_CURRENCY = np.array([c.currency_idx for c in COMPANIES], dtype=np.int64)

# ---------------------------------------------------------------- chart of accounts
# (item, item name, statement, section, normal balance, [(account, account name), ...])
_CHART: list[tuple[str, str, str, str, str, list[tuple[str, str]]]] = [
    (
        "BS-A-CASH",
        "Cash and cash equivalents",
        "BS",
        "Assets",
        "D",
        [
            ("100000", "Cash at bank - operating"),
            ("100100", "Cash at bank - payroll"),
            ("100200", "Cash at bank - collections"),
            ("100300", "Cash at bank - foreign currency"),
            ("100900", "Petty cash"),
            ("101000", "Short-term deposits"),
        ],
    ),
    (
        "BS-A-AR",
        "Trade receivables",
        "BS",
        "Assets",
        "D",
        [
            ("110000", "Trade receivables"),
            ("110100", "Allowance for doubtful accounts"),
            ("110200", "Unbilled receivables"),
            ("110300", "Notes receivable"),
        ],
    ),
    (
        "BS-A-ICAR",
        "Intercompany receivables",
        "BS",
        "Assets",
        "D",
        [
            ("115000", "Intercompany receivables"),
            ("115100", "Intercompany loans receivable"),
        ],
    ),
    (
        "BS-A-INV",
        "Inventories",
        "BS",
        "Assets",
        "D",
        [
            ("120000", "Raw materials"),
            ("120100", "Work in progress"),
            ("120200", "Finished goods"),
            ("120300", "Goods in transit"),
            ("120900", "Inventory obsolescence reserve"),
        ],
    ),
    (
        "BS-A-OCA",
        "Prepayments and other current assets",
        "BS",
        "Assets",
        "D",
        [
            ("130000", "Prepaid expenses"),
            ("130100", "Prepaid rent"),
            ("130200", "Prepaid insurance"),
            ("131000", "VAT receivable"),
            ("132000", "Income tax receivable"),
            ("133000", "Employee advances"),
            ("134000", "Other receivables"),
        ],
    ),
    (
        "BS-A-PPE",
        "Property, plant and equipment",
        "BS",
        "Assets",
        "D",
        [
            ("150000", "Land"),
            ("150100", "Buildings"),
            ("150200", "Machinery and equipment"),
            ("150300", "IT equipment"),
            ("150400", "Furniture and fixtures"),
            ("150500", "Vehicles"),
            ("150600", "Leasehold improvements"),
            ("150900", "Assets under construction"),
            ("159100", "Accumulated depreciation - buildings"),
            ("159200", "Accumulated depreciation - machinery"),
            ("159300", "Accumulated depreciation - IT equipment"),
            ("159400", "Accumulated depreciation - furniture"),
            ("159500", "Accumulated depreciation - vehicles"),
            ("159600", "Accumulated depreciation - leasehold improvements"),
        ],
    ),
    (
        "BS-A-INT",
        "Intangible assets",
        "BS",
        "Assets",
        "D",
        [
            ("160000", "Software"),
            ("160100", "Capitalised development costs"),
            ("160200", "Patents and trademarks"),
            ("160300", "Customer relationships"),
            ("165000", "Goodwill"),
            ("169000", "Accumulated amortisation"),
        ],
    ),
    (
        "BS-A-ROU",
        "Right-of-use assets",
        "BS",
        "Assets",
        "D",
        [
            ("170000", "Right-of-use assets - property"),
            ("170100", "Right-of-use assets - vehicles"),
            ("179000", "Accumulated depreciation - right-of-use"),
        ],
    ),
    ("BS-A-DTA", "Deferred tax assets", "BS", "Assets", "D", [("180000", "Deferred tax assets")]),
    (
        "BS-A-ONCA",
        "Other non-current assets",
        "BS",
        "Assets",
        "D",
        [
            ("190000", "Long-term deposits"),
            ("191000", "Investments in subsidiaries"),
        ],
    ),
    (
        "BS-L-AP",
        "Trade payables",
        "BS",
        "Liabilities",
        "C",
        [
            ("200000", "Trade payables"),
            ("200100", "Goods received not invoiced"),
            ("200200", "Notes payable"),
        ],
    ),
    (
        "BS-L-ICAP",
        "Intercompany payables",
        "BS",
        "Liabilities",
        "C",
        [
            ("205000", "Intercompany payables"),
            ("205100", "Intercompany loans payable"),
        ],
    ),
    (
        "BS-L-ACC",
        "Accrued liabilities",
        "BS",
        "Liabilities",
        "C",
        [
            ("210000", "Accrued expenses"),
            ("210100", "Accrued bonuses"),
            ("210200", "Accrued vacation"),
            ("210300", "Accrued interest"),
        ],
    ),
    (
        "BS-L-PAY",
        "Payroll liabilities",
        "BS",
        "Liabilities",
        "C",
        [
            ("211000", "Salaries payable"),
            ("212000", "Payroll taxes payable"),
            ("213000", "Employee benefits payable"),
            ("214000", "Pension obligations - current"),
        ],
    ),
    (
        "BS-L-TAX",
        "Tax liabilities",
        "BS",
        "Liabilities",
        "C",
        [
            ("220000", "VAT payable"),
            ("221000", "Withholding tax payable"),
            ("230000", "Income tax payable"),
        ],
    ),
    (
        "BS-L-DEF",
        "Contract liabilities",
        "BS",
        "Liabilities",
        "C",
        [
            ("240000", "Deferred revenue"),
            ("240100", "Customer advances"),
        ],
    ),
    (
        "BS-L-STB",
        "Short-term borrowings",
        "BS",
        "Liabilities",
        "C",
        [
            ("250000", "Bank overdrafts"),
            ("250100", "Short-term loans"),
            ("250200", "Current portion of long-term debt"),
        ],
    ),
    (
        "BS-L-LEASE",
        "Lease liabilities",
        "BS",
        "Liabilities",
        "C",
        [
            ("260000", "Lease liabilities - current"),
            ("261000", "Lease liabilities - non-current"),
        ],
    ),
    (
        "BS-L-LTB",
        "Long-term borrowings",
        "BS",
        "Liabilities",
        "C",
        [
            ("270000", "Long-term bank loans"),
            ("271000", "Bonds payable"),
        ],
    ),
    (
        "BS-L-DTL",
        "Deferred tax liabilities",
        "BS",
        "Liabilities",
        "C",
        [
            ("280000", "Deferred tax liabilities"),
        ],
    ),
    (
        "BS-L-PROV",
        "Provisions",
        "BS",
        "Liabilities",
        "C",
        [
            ("290000", "Warranty provision"),
            ("290100", "Restructuring provision"),
            ("290200", "Pension obligations - non-current"),
        ],
    ),
    (
        "BS-E-CAP",
        "Share capital and premium",
        "BS",
        "Equity",
        "C",
        [
            ("300000", "Share capital"),
            ("310000", "Share premium"),
        ],
    ),
    (
        "BS-E-RES",
        "Reserves",
        "BS",
        "Equity",
        "C",
        [
            ("320000", "Legal reserve"),
            ("350000", "Other reserves"),
        ],
    ),
    ("BS-E-RE", "Retained earnings", "BS", "Equity", "C", [("330000", "Retained earnings")]),
    (
        "BS-E-CTA",
        "Cumulative translation adjustment",
        "BS",
        "Equity",
        "C",
        [
            ("340000", "Cumulative translation adjustment"),
        ],
    ),
    (
        "PL-REV-PROD",
        "Product revenue",
        "PL",
        "Revenue",
        "C",
        [
            ("400000", "Revenue - Platform"),
            ("401000", "Revenue - Analytics"),
            ("402000", "Revenue - Connectors"),
            ("403000", "Revenue - Hardware"),
            ("404000", "Revenue - Professional services"),
        ],
    ),
    (
        "PL-REV-OTH",
        "Other operating revenue",
        "PL",
        "Revenue",
        "C",
        [
            ("450000", "Sales discounts"),
            ("451000", "Sales returns"),
            ("460000", "Royalty income"),
            ("470000", "Freight recharged"),
        ],
    ),
    (
        "PL-REV-IC",
        "Intercompany revenue",
        "PL",
        "Revenue",
        "C",
        [
            ("480000", "Intercompany management fee revenue"),
            ("481000", "Intercompany sales"),
        ],
    ),
    (
        "PL-COGS-MAT",
        "Cost of goods sold",
        "PL",
        "COGS",
        "D",
        [
            ("500000", "COGS - Platform"),
            ("501000", "COGS - Analytics"),
            ("502000", "COGS - Connectors"),
            ("503000", "COGS - Hardware"),
            ("504000", "COGS - Professional services"),
        ],
    ),
    (
        "PL-COGS-OTH",
        "Other cost of sales",
        "PL",
        "COGS",
        "D",
        [
            ("510000", "Freight in"),
            ("520000", "Hosting for customers"),
            ("530000", "Inventory write-downs"),
            ("540000", "Third-party licences"),
            ("550000", "Warranty costs"),
        ],
    ),
    (
        "PL-OPEX-PERS",
        "Personnel expenses",
        "PL",
        "Operating expenses",
        "D",
        [
            ("600000", "Salaries and wages"),
            ("601000", "Employer payroll taxes"),
            ("602000", "Employee benefits"),
            ("603000", "Bonuses"),
            ("604000", "Sales commissions"),
            ("605000", "Contractors"),
            ("606000", "Training"),
            ("607000", "Recruitment"),
            ("608000", "Pension costs"),
            ("609000", "Other personnel costs"),
        ],
    ),
    (
        "PL-OPEX-OCC",
        "Occupancy",
        "PL",
        "Operating expenses",
        "D",
        [
            ("610000", "Rent"),
            ("611000", "Utilities"),
            ("612000", "Office supplies"),
            ("613000", "Repairs and maintenance"),
            ("614000", "Cleaning and security"),
        ],
    ),
    (
        "PL-OPEX-TRV",
        "Travel and entertainment",
        "PL",
        "Operating expenses",
        "D",
        [
            ("620000", "Travel - airfare"),
            ("621000", "Meals and entertainment"),
            ("622000", "Travel - lodging"),
            ("623000", "Travel - ground transport"),
        ],
    ),
    (
        "PL-OPEX-MKT",
        "Marketing",
        "PL",
        "Operating expenses",
        "D",
        [
            ("630000", "Advertising"),
            ("631000", "Events and trade shows"),
            ("632000", "Sponsorships"),
            ("633000", "Marketing agencies"),
        ],
    ),
    (
        "PL-OPEX-IT",
        "IT and communication",
        "PL",
        "Operating expenses",
        "D",
        [
            ("640000", "Software subscriptions"),
            ("641000", "Cloud infrastructure"),
            ("642000", "Telecommunications"),
            ("643000", "IT hardware expensed"),
        ],
    ),
    (
        "PL-OPEX-PROF",
        "Professional fees",
        "PL",
        "Operating expenses",
        "D",
        [
            ("650000", "Legal fees"),
            ("651000", "Audit fees"),
            ("652000", "Consulting fees"),
            ("653000", "Tax advisory fees"),
        ],
    ),
    (
        "PL-OPEX-INS",
        "Insurance",
        "PL",
        "Operating expenses",
        "D",
        [
            ("660000", "Insurance"),
            ("661000", "Insurance - product liability"),
        ],
    ),
    (
        "PL-OPEX-DA",
        "Depreciation and amortisation",
        "PL",
        "Operating expenses",
        "D",
        [
            ("670000", "Depreciation"),
            ("671000", "Amortisation"),
            ("672000", "Depreciation - right-of-use"),
        ],
    ),
    (
        "PL-OPEX-IC",
        "Intercompany charges",
        "PL",
        "Operating expenses",
        "D",
        [
            ("680000", "Intercompany management fee expense"),
            ("681000", "Intercompany recharges"),
        ],
    ),
    (
        "PL-OPEX-OTH",
        "Other operating expenses",
        "PL",
        "Operating expenses",
        "D",
        [
            ("690000", "Bank charges"),
            ("691000", "Bad debt expense"),
            ("692000", "Memberships"),
            ("693000", "Postage and courier"),
            ("694000", "Non-income taxes"),
            ("699000", "Miscellaneous expenses"),
        ],
    ),
    (
        "PL-OIE-FIN",
        "Finance income and costs",
        "PL",
        "Other income and expense",
        "C",
        [
            ("700000", "Interest income"),
            ("710000", "Interest expense"),
            ("711000", "Interest expense - leases"),
        ],
    ),
    (
        "PL-OIE-FX",
        "Foreign exchange result",
        "PL",
        "Other income and expense",
        "C",
        [
            ("720000", "Realised FX gains and losses"),
            ("721000", "Unrealised FX gains and losses"),
        ],
    ),
    (
        "PL-OIE-OTH",
        "Other income and expense",
        "PL",
        "Other income and expense",
        "C",
        [
            ("730000", "Gain or loss on disposal of assets"),
            ("740000", "Government grants"),
            ("790000", "Other non-operating income and expense"),
        ],
    ),
    (
        "PL-TAX",
        "Income tax",
        "PL",
        "Income tax",
        "D",
        [
            ("800000", "Current income tax expense"),
            ("810000", "Deferred tax expense"),
            ("820000", "Prior-year tax adjustments"),
        ],
    ),
]


def _expand_chart() -> list[tuple[str, str, str]]:
    """Sub-accounts by country of the personnel and travel natures: a real group
    chart splits them for statutory reporting, and it makes the chart big enough
    to exercise the hierarchy."""
    accounts = []
    for item, _, _, _, _, rows in _CHART:
        for code, name in rows:
            accounts.append((code, name, item))
    extra = [
        ("606", "Training"),
        ("609", "Other personnel costs"),
        ("612", "Office supplies"),
        ("623", "Ground transport"),
        ("633", "Marketing agencies"),
        ("643", "IT hardware expensed"),
        ("692", "Memberships"),
        ("699", "Miscellaneous expenses"),
    ]
    items = {code: item for code, _, item in accounts}
    for stem, name in extra:
        for i, country in enumerate(("US", "EU", "UK", "JP", "BR"), start=1):
            code = f"{stem}{i}00"
            accounts.append((code, f"{name} - {country}", items[f"{stem}000"]))
    return sorted(accounts)


ACCOUNTS: tuple[tuple[str, str, str], ...] = tuple(_expand_chart())
ACCOUNT_CODES = tuple(a[0] for a in ACCOUNTS)
ACCOUNT_IDX = {code: i for i, code in enumerate(ACCOUNT_CODES)}
IC_ACCOUNTS = frozenset(
    {"115000", "115100", "205000", "205100", "480000", "481000", "680000", "681000"}
)
ACCOUNT_IS_PL = np.array([c[0] >= "4" for c in ACCOUNT_CODES])


def acc(code: str) -> int:
    """Index of a group account code."""
    return ACCOUNT_IDX[code]


# ---------------------------------------------------------------- cost centers
FUNCTIONS = (  # node, name, cost center infix
    ("SALES", "Sales", "SAL"),
    ("MKTG", "Marketing", "MKT"),
    ("RND", "Research and development", "RND"),
    ("OPS", "Operations", "OPS"),
    ("GA", "General and administration", "GA"),
)
F_SALES, F_MKTG, F_RND, F_OPS, F_GA = range(5)
_CC_PER_FUNCTION = {"US01": 3}


def _cost_centers() -> list[tuple[str, int, int, int]]:
    """(code, company idx, function idx, number) for every cost center."""
    out = []
    for ci, c in enumerate(COMPANIES):
        for fi, (_, _, infix) in enumerate(FUNCTIONS):
            for n in range(1, _CC_PER_FUNCTION.get(c.code, 2) + 1):
                out.append((f"{c.code}-{infix}-{n:02d}", ci, fi, n))
    return out


COST_CENTERS = tuple(_cost_centers())
CC_CODES = tuple(c[0] for c in COST_CENTERS)
CC_COMPANY = np.array([c[1] for c in COST_CENTERS], dtype=np.int64)
CC_FUNCTION = np.array([c[2] for c in COST_CENTERS], dtype=np.int64)


def cost_centers_of(company: int, function: int | None = None) -> np.ndarray:
    mask = company == CC_COMPANY
    if function is not None:
        mask &= function == CC_FUNCTION
    return np.flatnonzero(mask)


def cc(code: str) -> int:
    return CC_CODES.index(code)


# ---------------------------------------------------------------- products
PRODUCT_LINES = (  # code, name; revenue account 400000 + 1000*i, COGS 500000 + 1000*i
    ("PLAT", "Platform"),
    ("ANLY", "Analytics"),
    ("CONN", "Connectors"),
    ("HARD", "Hardware"),
    ("SERV", "Professional services"),
)
COGS_RATIO = np.array([0.22, 0.30, 0.25, 0.62, 0.55])
_FAMILIES = (
    ("PLAT-CORE", "Core Ledger", 0),
    ("PLAT-CLOSE", "Close Manager", 0),
    ("ANLY-BI", "Insight BI", 1),
    ("ANLY-PLAN", "Planning Studio", 1),
    ("CONN-ERP", "ERP Connectors", 2),
    ("CONN-BANK", "Bank Connectors", 2),
    ("HARD-EDGE", "Edge Appliances", 3),
    ("HARD-SCAN", "Document Scanners", 3),
    ("SERV-IMPL", "Implementation", 4),
    ("SERV-TRAIN", "Training and Support", 4),
)
FAMILY_CODES = tuple(f[0] for f in _FAMILIES)
PRODUCTS_PER_FAMILY = 4
_EDITIONS = ("Starter", "Standard", "Professional", "Enterprise")


def _products() -> list[tuple[str, str, int, int]]:
    out = []
    for fi, (fam, name, _line) in enumerate(_FAMILIES):
        for k, edition in enumerate(_EDITIONS):
            out.append((f"P-{fam}-{k + 1:02d}", f"{name} {edition}", fi, _line))
    return out


PRODUCTS = tuple(_products())
PRODUCT_CODES = tuple(p[0] for p in PRODUCTS)
PRODUCT_LINE = np.array([p[3] for p in PRODUCTS], dtype=np.int64)
REVENUE_ACCOUNT = np.array([acc(f"{400 + i}000") for i in range(len(PRODUCT_LINES))])
COGS_ACCOUNT = np.array([acc(f"{500 + i}000") for i in range(len(PRODUCT_LINES))])


# ---------------------------------------------------------------- projects
_PROJECT_TYPES = (("CAPEX", "Office fit-out"), ("RND", "Next-gen engine"), ("CUSTOMER", "Rollout"))


@dataclass(frozen=True)
class Projects:
    codes: tuple[str, ...]
    company: np.ndarray
    table: pa.Table


def make_projects(rng: np.random.Generator) -> Projects:
    """Three to five projects per company, spanning parts of the history."""
    codes, names, comps, types, starts, ends = [], [], [], [], [], []
    for ci, c in enumerate(COMPANIES):
        for n in range(int(rng.integers(3, 6))):
            kind, label = _PROJECT_TYPES[n % len(_PROJECT_TYPES)]
            start = day("2024-01-01") + int(rng.integers(0, 400))
            codes.append(f"PRJ-{c.code}-{n + 1:03d}")
            names.append(f"{c.code} {label} {n + 1}")
            comps.append(ci)
            types.append(kind)
            starts.append(start)
            ends.append(start + int(rng.integers(180, 720)))
    table = pa.table(
        {
            "Project": codes,
            "ProjectName": names,
            "CompanyCode": [COMPANY_CODES[i] for i in comps],
            "ProjectType": types,
            "StartDate": pa.array(np.array(starts, dtype=np.int32), pa.date32()),
            "EndDate": pa.array(np.array(ends, dtype=np.int32), pa.date32()),
            "LastChangeDateTime": _master_ts(len(codes)),
        },
        schema=schemas.PROJECTS,
    )
    return Projects(tuple(codes), np.array(comps, dtype=np.int64), table)


# ---------------------------------------------------------------- extract tables
def _master_ts(n: int) -> pa.Array:
    return pa.array(np.full(n, MASTER_CHANGED_US, dtype=np.int64), schemas.TS)


def company_codes_table() -> pa.Table:
    return pa.table(
        {
            "CompanyCode": list(COMPANY_CODES),
            "CompanyCodeName": [c.name for c in COMPANIES],
            "Country": [c.country for c in COMPANIES],
            "Currency": [c.currency for c in COMPANIES],
            "Region": [c.region for c in COMPANIES],
            "ConsolidationParent": [None if c.code == PARENT else PARENT for c in COMPANIES],
            "AccountingSystem": [c.system for c in COMPANIES],
            "LastChangeDateTime": _master_ts(len(COMPANIES)),
        },
        schema=schemas.COMPANY_CODES,
    )


def financial_statement_items_table() -> pa.Table:
    return pa.table(
        {
            "FinancialStatementItem": [r[0] for r in _CHART],
            "ItemName": [r[1] for r in _CHART],
            "Statement": [r[2] for r in _CHART],
            "Section": [r[3] for r in _CHART],
            "NormalBalance": [r[4] for r in _CHART],
            "SortOrder": pa.array([10 * (i + 1) for i in range(len(_CHART))], pa.int32()),
        },
        schema=schemas.FINANCIAL_STATEMENT_ITEMS,
    )


def gl_accounts_table() -> pa.Table:
    return pa.table(
        {
            "GLAccount": list(ACCOUNT_CODES),
            "GLAccountName": [a[1] for a in ACCOUNTS],
            "GLAccountType": ["P" if a[0] >= "4" else "X" for a in ACCOUNTS],
            "FinancialStatementItem": [a[2] for a in ACCOUNTS],
            "IsIntercompany": [a[0] in IC_ACCOUNTS for a in ACCOUNTS],
            "LastChangeDateTime": _master_ts(len(ACCOUNTS)),
        },
        schema=schemas.GL_ACCOUNTS,
    )


def item_normal_balance() -> dict[str, str]:
    return {r[0]: r[4] for r in _CHART}


def cost_center_nodes_table() -> pa.Table:
    nodes = [("GROUP", None, "Finsync Group", 1)]
    nodes += [(node, "GROUP", name, 2) for node, name, _ in FUNCTIONS]
    return pa.table(
        {
            "Node": [n[0] for n in nodes],
            "ParentNode": [n[1] for n in nodes],
            "NodeName": [n[2] for n in nodes],
            "Level": pa.array([n[3] for n in nodes], pa.int32()),
        },
        schema=schemas.COST_CENTER_NODES,
    )


_MANAGERS = ("A. Silva", "B. Tanaka", "C. Müller", "D. Martin", "E. Smith", "F. Jones", "G. Sato")


def cost_centers_table() -> pa.Table:
    return pa.table(
        {
            "CostCenter": list(CC_CODES),
            "CompanyCode": [COMPANY_CODES[c[1]] for c in COST_CENTERS],
            "CostCenterName": [
                f"{COMPANIES[c[1]].code} {FUNCTIONS[c[2]][1]} {c[3]}" for c in COST_CENTERS
            ],
            "HierarchyNode": [FUNCTIONS[c[2]][0] for c in COST_CENTERS],
            "PersonResponsible": [
                _MANAGERS[(c[1] + c[2] + c[3]) % len(_MANAGERS)] for c in COST_CENTERS
            ],
            "LastChangeDateTime": _master_ts(len(COST_CENTERS)),
        },
        schema=schemas.COST_CENTERS,
    )


def products_table() -> pa.Table:
    return pa.table(
        {
            "Product": list(PRODUCT_CODES),
            "ProductName": [p[1] for p in PRODUCTS],
            "ProductFamily": [FAMILY_CODES[p[2]] for p in PRODUCTS],
            "ProductLine": [PRODUCT_LINES[p[3]][0] for p in PRODUCTS],
            "LastChangeDateTime": _master_ts(len(PRODUCTS)),
        },
        schema=schemas.PRODUCTS,
    )
