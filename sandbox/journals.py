"""General-ledger journals of every company, generated one period at a time.

A period's documents are built in vectorised blocks (`Part`: whole documents of
one kind), converted to the company-code currency at the published rate, and
balanced by letting each document's last line absorb rounding. Work that
crosses periods (receipts, vendor payments, accrual reversals) is carried as a
small queue, so memory stays bounded by one period whatever the scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from sandbox import schemas
from sandbox.calendar import PERIODS, Period, add_business_days, period_index_of
from sandbox.crm import Crm
from sandbox.fx import FxRates, decimal_array
from sandbox.master import (
    ACCOUNT_CODES,
    ACCOUNT_IS_PL,
    CC_CODES,
    CC_COMPANY,
    CC_FUNCTION,
    COGS_ACCOUNT,
    COGS_RATIO,
    COMPANIES,
    COMPANY_CODES,
    COMPANY_CURRENCY,
    CURRENCIES,
    F_GA,
    F_MKTG,
    F_OPS,
    F_RND,
    F_SALES,
    FOREIGN_CURRENCIES,
    FUNCTIONS,
    PARENT,
    PRODUCT_CODES,
    PRODUCT_LINE,
    PRODUCTS_PER_FAMILY,
    REGIONAL_COMPANY,
    REVENUE_ACCOUNT,
    UNIT,
    Projects,
    acc,
)
from sandbox.payroll import Payroll

DOC_TYPES = ("AB", "RV", "WL", "DZ", "KR", "KZ", "PR", "SA", "AF", "IC", "TX")
DOC_TYPE_NAMES = {
    "AB": "opening balances",
    "RV": "sales invoice (one per closed-won opportunity)",
    "WL": "cost of goods sold",
    "DZ": "customer receipt",
    "KR": "vendor invoice",
    "KZ": "vendor payment",
    "PR": "payroll",
    "SA": "accrual and its reversal",
    "AF": "depreciation and amortisation",
    "IC": "intercompany management fee",
    "TX": "income tax provision",
}
T = {t: i for i, t in enumerate(DOC_TYPES)}
# S/4-like number range prefix of each document type (10-digit document numbers).
_NUMBER_PREFIX = np.array([12, 90, 49, 14, 51, 15, 47, 10, 20, 18, 11], dtype=np.int64)
REGIONAL_IDX = COMPANY_CODES.index(REGIONAL_COMPANY)
PARENT_IDX = COMPANY_CODES.index(PARENT)

# ---------------------------------------------------------------- volume model
LINES_AT_SCALE_1 = 1_000_000
FIXED_LINES = 110  # payroll, accruals, depreciation, IC, tax per company and period
SALES_SHARE = 0.45  # of variable lines
LINES_PER_INVOICE = 8.7  # RV + WL + DZ
LINES_PER_VENDOR_INVOICE = 5.1  # KR + KZ
MIN_INVOICES = 6
MIN_VENDOR_INVOICES = 8
_SEASON = np.array([0.9, 0.95, 1.0, 0.95, 0.95, 1.05, 1.0, 0.95, 1.05, 0.95, 1.0, 1.25])
MONTHLY_GROWTH = 0.01
VENDOR_SPEND_SHARE = 0.14  # of revenue
FOREIGN_PURCHASE_SHARE = 0.10

# Vendor invoice natures: account, main function, weight.
_NATURES = (
    ("605000", F_RND, 8),
    ("606000", F_GA, 2),
    ("607000", F_GA, 2),
    ("610000", F_GA, 8),
    ("611000", F_OPS, 3),
    ("612000", F_GA, 2),
    ("613000", F_OPS, 2),
    ("614000", F_GA, 2),
    ("620000", F_SALES, 5),
    ("621000", F_SALES, 3),
    ("622000", F_SALES, 4),
    ("623000", F_SALES, 2),
    ("630000", F_MKTG, 6),
    ("631000", F_MKTG, 4),
    ("632000", F_MKTG, 2),
    ("633000", F_MKTG, 3),
    ("640000", F_RND, 6),
    ("641000", F_RND, 6),
    ("642000", F_OPS, 3),
    ("643000", F_OPS, 2),
    ("650000", F_GA, 3),
    ("652000", F_GA, 4),
    ("653000", F_GA, 2),
    ("660000", F_GA, 2),
    ("692000", F_GA, 1),
    ("693000", F_OPS, 1),
    ("699000", F_GA, 1),
    ("510000", F_OPS, 3),
    ("520000", F_OPS, 4),
    ("540000", F_OPS, 2),
)
_ACCRUAL_NATURES = (
    ("603000", F_SALES),
    ("611000", F_OPS),
    ("650000", F_GA),
    ("651000", F_GA),
    ("652000", F_GA),
    ("641000", F_RND),
)
# Opening balance sheet as multiples of a month's revenue; 330000 absorbs the rest.
_OPENING = (
    ("100000", 2.5),
    ("110000", 1.2),
    ("120200", 1.5),
    ("130000", 0.2),
    ("150100", 3.0),
    ("150200", 1.5),
    ("150300", 0.8),
    ("150400", 0.3),
    ("160000", 0.6),
    ("159100", -0.6),
    ("159200", -0.5),
    ("159300", -0.4),
    ("159400", -0.1),
    ("169000", -0.2),
    ("200000", -0.9),
    ("210000", -0.3),
    ("230000", -0.2),
    ("270000", -2.0),
    ("300000", -2.0),
    ("310000", -0.5),
)
# Depreciation: asset account, accumulated account, useful life in months.
_DEPRECIATION = (
    ("150100", "159100", 480),
    ("150200", "159200", 120),
    ("150300", "159300", 36),
    ("150400", "159400", 84),
    ("160000", "169000", 60),
)
PAYROLL_ACCOUNTS = ("600000", "601000", "602000")
PARENT_ONLY_ACCOUNTS = ("115000", "480000")  # the parent's leg of the management fee


def posting_accounts() -> tuple[str, ...]:
    """Every group account a journal can post to (the regional chart maps these)."""
    codes = {a for a, _ in _OPENING} | {"330000"}
    codes |= {a for a, _, _ in _NATURES} | {a for a, _ in _ACCRUAL_NATURES}
    codes |= {a for _, a, _ in _DEPRECIATION}
    codes |= {f"{400 + i}000" for i in range(len(REVENUE_ACCOUNT))}
    codes |= {f"{500 + i}000" for i in range(len(COGS_ACCOUNT))}
    codes |= set(PAYROLL_ACCOUNTS) | {"100100", "100200", "212000", "213000", "720000"}
    codes |= {"670000", "671000", "115000", "205000", "480000", "680000", "800000"}
    return tuple(sorted(codes))


@dataclass(frozen=True)
class Volumes:
    """How many documents of each scale-driven kind each company posts per period."""

    invoices: np.ndarray  # [company, period]
    vendor_invoices: np.ndarray
    accruals: np.ndarray  # [company]
    revenue: np.ndarray  # target revenue, functional units [company, period]

    @classmethod
    def for_scale(cls, scale: float) -> Volumes:
        weights = np.array([c.weight for c in COMPANIES])
        variable = np.maximum(0.0, LINES_AT_SCALE_1 * scale / len(PERIODS) * weights - FIXED_LINES)
        season = np.array([_SEASON[p.fiscal_period - 1] for p in PERIODS])
        season = season / season.mean()
        growth = (1 + MONTHLY_GROWTH) ** np.arange(len(PERIODS))
        shape = season * growth / (season * growth).mean()
        inv = np.rint(np.outer(variable * SALES_SHARE / LINES_PER_INVOICE, shape))
        vend = np.rint(np.outer(variable * (1 - SALES_SHARE) / LINES_PER_VENDOR_INVOICE, shape))
        revenue = np.outer([c.revenue for c in COMPANIES], season * growth)
        return cls(
            invoices=np.maximum(MIN_INVOICES, inv).astype(np.int64),
            vendor_invoices=np.maximum(MIN_VENDOR_INVOICES, vend).astype(np.int64),
            accruals=np.maximum(3, np.rint(weights * scale * 200)).astype(np.int64),
            revenue=revenue,
        )


# ---------------------------------------------------------------- document blocks
def _arr(x: object, n: int, dtype: type = np.int64) -> np.ndarray:
    a = np.asarray(x, dtype=dtype)
    return np.broadcast_to(a, (n,)).copy() if a.ndim == 0 else a


def _obj(x: object, n: int) -> np.ndarray:
    if x is None or isinstance(x, str):
        return np.full(n, x, dtype=object)
    return np.asarray(x, dtype=object)


@dataclass
class Part:
    """Whole documents of one kind; lines reference documents by position."""

    doc_type: str
    company: np.ndarray
    posting: np.ndarray
    currency: np.ndarray
    reference: np.ndarray  # object (str or None)
    line_doc: np.ndarray
    account: np.ndarray
    amount: np.ndarray  # hundredths of the transaction currency, signed
    cost_center: np.ndarray
    product: np.ndarray
    project: np.ndarray
    partner: np.ndarray
    customer: np.ndarray
    cc_amount: np.ndarray  # hundredths of the company-code currency
    document_date: np.ndarray
    reversal_of: np.ndarray  # object
    numbers: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))

    @property
    def n_docs(self) -> int:
        return len(self.company)

    @property
    def last_line(self) -> np.ndarray:
        return np.r_[np.flatnonzero(np.diff(self.line_doc)), len(self.line_doc) - 1]


def make_part(
    fx: FxRates,
    doc_type: str,
    *,
    company: object,
    posting: object,
    currency: object,
    line_doc: np.ndarray,
    account: np.ndarray,
    amount: np.ndarray,
    reference: object = None,
    document_date: object = None,
    reversal_of: object = None,
    cost_center: object = -1,
    product: object = -1,
    project: object = -1,
    partner: object = -1,
    customer: object = -1,
    fixed_cc: np.ndarray | None = None,
) -> Part:
    """Build documents, convert lines at the posting date's published rate and let
    each document's last line absorb the rounding (`fixed_cc` >= MISSING keeps a
    given company-code amount, e.g. a cleared receivable at its invoice rate)."""
    line_doc = np.asarray(line_doc, dtype=np.int64)
    n_lines = len(line_doc)
    company = np.asarray(company, dtype=np.int64)
    n_docs = len(company)
    posting = _arr(posting, n_docs)
    currency = _arr(currency, n_docs)
    document_date = posting.copy() if document_date is None else _arr(document_date, n_docs)
    cols = {
        "account": _arr(account, n_lines),
        "amount": _arr(amount, n_lines),
        "cost_center": _arr(cost_center, n_lines),
        "product": _arr(product, n_lines),
        "project": _arr(project, n_lines),
        "partner": _arr(partner, n_lines),
        "customer": _arr(customer, n_lines),
        "fixed": _arr(MISSING if fixed_cc is None else fixed_cc, n_lines),
    }
    order = np.argsort(line_doc, kind="stable")
    line_doc = line_doc[order]
    cols = {k: v[order] for k, v in cols.items()}
    amount = cols["amount"]
    d = line_doc
    converted = fx.convert(amount, currency[d], COMPANY_CURRENCY[company[d]], posting[d])
    cc_amount = np.where(cols["fixed"] != MISSING, cols["fixed"], converted)
    starts = np.flatnonzero(np.r_[True, np.diff(line_doc) != 0]) if n_lines else line_doc
    if len(starts) != n_docs:
        raise ValueError(f"{doc_type}: every document needs at least one line")
    if n_lines and np.add.reduceat(amount, starts).any():
        raise ValueError(f"{doc_type}: a document does not balance in transaction currency")
    if n_lines:
        last = np.r_[starts[1:] - 1, n_lines - 1]
        cc_amount[last] -= np.add.reduceat(cc_amount, starts)
    keep = (amount != 0) | (cc_amount != 0)
    keep[starts] = True  # a document keeps at least its first line
    reference, reversal_of = _obj(reference, n_docs), _obj(reversal_of, n_docs)
    if not (len(posting) == len(currency) == len(reference) == len(reversal_of) == n_docs):
        raise ValueError(f"{doc_type}: document columns differ in length")
    return Part(
        doc_type=doc_type,
        company=company,
        posting=posting,
        currency=currency,
        reference=reference,
        line_doc=line_doc[keep],
        account=cols["account"][keep],
        amount=amount[keep],
        cost_center=cols["cost_center"][keep],
        product=cols["product"][keep],
        project=cols["project"][keep],
        partner=cols["partner"][keep],
        customer=cols["customer"][keep],
        cc_amount=cc_amount[keep],
        document_date=document_date,
        reversal_of=reversal_of,
    )


MISSING = np.iinfo(np.int64).min


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(document index, position within document) for documents of `counts` lines."""
    doc = np.repeat(np.arange(len(counts)), counts)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    return doc, np.arange(len(doc)) - starts[doc]


def _round_unit(x: np.ndarray, unit: np.ndarray) -> np.ndarray:
    return (np.rint(np.asarray(x) / unit) * unit).astype(np.int64)


def _split(total: np.ndarray, weights: np.ndarray, doc: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Split each document's total (hundredths) over its lines by weight, exactly,
    in multiples of the currency unit; the first line takes the remainder."""
    units = total // unit
    wsum = np.bincount(doc, weights, minlength=len(total))
    parts = np.floor(units[doc] * weights / wsum[doc]).astype(np.int64)
    rest = units - np.bincount(doc, parts, minlength=len(total)).astype(np.int64)
    first = np.r_[0, np.flatnonzero(np.diff(doc)) + 1]
    parts[first] += rest
    return parts * unit[doc]


# ---------------------------------------------------------------- the period loop
@dataclass
class PeriodJournal:
    """All documents of one period, numbered; lines sorted by company, document, line."""

    period: Period
    doc_company: np.ndarray
    doc_type: np.ndarray
    doc_posting: np.ndarray
    doc_date: np.ndarray
    doc_currency: np.ndarray
    doc_number: np.ndarray
    doc_reference: np.ndarray
    doc_reversal_of: np.ndarray
    doc_changed_us: np.ndarray
    line_doc: np.ndarray
    line_no: np.ndarray
    account: np.ndarray
    cost_center: np.ndarray
    product: np.ndarray
    project: np.ndarray
    partner: np.ndarray
    customer: np.ndarray
    amount: np.ndarray
    cc_amount: np.ndarray

    def lines_of(self, regional: bool) -> np.ndarray:
        is_regional = self.doc_company[self.line_doc] == REGIONAL_IDX
        return np.flatnonzero(is_regional if regional else ~is_regional)

    def erp_table(self, customer_ids: pa.Array, projects: Projects) -> pa.Table:
        """Group ERP journal items (S/4 shape) of every company but the regional one."""
        sel = self.lines_of(regional=False)
        d = self.line_doc[sel]
        n = len(sel)
        fy = np.full(n, self.period.fiscal_year, dtype=np.int32)
        fp = np.full(n, self.period.fiscal_period, dtype=np.int32)
        comp = self.doc_company[d]
        cc_amount = self.cc_amount[sel]
        amount = self.amount[sel]
        debit = (cc_amount > 0) | ((cc_amount == 0) & (amount >= 0))
        texts = _doc_texts(self)
        return pa.table(
            {
                "CompanyCode": _take(COMPANY_CODES, comp),
                "FiscalYear": fy,
                "FiscalPeriod": fp,
                "AccountingDocument": pa.array(self.doc_number[d].tolist(), pa.string()),
                "LedgerGLLineItem": self.line_no[sel].astype(np.int32),
                "AccountingDocumentType": _take(DOC_TYPES, self.doc_type[d]),
                "PostingDate": pa.array(self.doc_posting[d].astype(np.int32), pa.date32()),
                "DocumentDate": pa.array(self.doc_date[d].astype(np.int32), pa.date32()),
                "GLAccount": _take(ACCOUNT_CODES, self.account[sel]),
                "CostCenter": _take(CC_CODES, self.cost_center[sel]),
                "Product": _take(PRODUCT_CODES, self.product[sel]),
                "Project": _take(projects.codes, self.project[sel]),
                "PartnerCompany": _take(COMPANY_CODES, self.partner[sel]),
                "Customer": customer_ids.take(_indices(self.customer[sel])),
                "TransactionCurrency": _take(CURRENCIES, self.doc_currency[d]),
                "AmountInTransactionCurrency": decimal_array(amount, schemas.AMOUNT),
                "CompanyCodeCurrency": _take(CURRENCIES, COMPANY_CURRENCY[comp]),
                "AmountInCompanyCodeCurrency": decimal_array(cc_amount, schemas.AMOUNT),
                "DebitCreditCode": pa.array(np.where(debit, "S", "H")),
                "ReversalReferenceDocument": pa.array(
                    self.doc_reversal_of[d].tolist(), pa.string()
                ),
                "ReferenceDocument": pa.array(self.doc_reference[d].tolist(), pa.string()),
                "DocumentItemText": pa.array(texts, pa.string()).take(pa.array(d)),
                "LastChangeDateTime": pa.array(self.doc_changed_us[d], schemas.TS),
            },
            schema=schemas.JOURNAL_ITEMS,
        )

    def pl_actuals(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(company, account, cost center or -1, company-code amount) summed over
        P&L lines: the actuals FP&A plans against."""
        sel = np.flatnonzero(ACCOUNT_IS_PL[self.account])
        comp = self.doc_company[self.line_doc[sel]]
        key = np.stack([comp, self.account[sel], self.cost_center[sel]], axis=1)
        uniq, inv = np.unique(key, axis=0, return_inverse=True)
        total = np.zeros(len(uniq), dtype=np.int64)
        np.add.at(total, inv.ravel(), self.cc_amount[sel])
        return uniq[:, 0], uniq[:, 1], uniq[:, 2], total


_ERP_TEXT = {
    "AB": "Opening balance",
    "RV": "Invoice {}",
    "WL": "Cost of sales {}",
    "DZ": "Receipt for {}",
    "KR": "Vendor invoice {}",
    "KZ": "Payment of {}",
    "PR": "Payroll {}",
    "SA": "Accrual {}",
    "AF": "Depreciation {}",
    "IC": "Management fee {}",
    "TX": "Income tax provision {}",
}


def _doc_texts(pj: PeriodJournal) -> list[str]:
    out = []
    for t, ref, rev in zip(
        pj.doc_type.tolist(), pj.doc_reference.tolist(), pj.doc_reversal_of.tolist(), strict=True
    ):
        out.append(f"Reversal of {rev}" if rev is not None else _ERP_TEXT[DOC_TYPES[t]].format(ref))
    return out


def _indices(idx: np.ndarray) -> pa.Array:
    return pa.array(idx, mask=idx < 0)


def _take(values: tuple[str, ...] | list[str], idx: np.ndarray) -> pa.Array:
    return pa.array(values, pa.string()).take(_indices(np.asarray(idx)))


@dataclass
class _Queue:
    """Documents decided in one period and posted in a later one."""

    chunks: list[dict[str, np.ndarray]] = field(default_factory=list)

    def push(self, **cols: np.ndarray) -> None:
        if len(next(iter(cols.values()))):
            self.chunks.append(cols)

    def pop(self, period: int) -> dict[str, np.ndarray] | None:
        """Remove and return the rows due in `period` (rows due earlier never exist)."""
        due, keep = [], []
        for ch in self.chunks:
            m = ch["period"] == period
            if m.any():
                due.append({k: v[m] for k, v in ch.items()})
            if (~m).any():
                keep.append({k: v[~m] for k, v in ch.items()})
        self.chunks = keep
        if not due:
            return None
        return {k: np.concatenate([c[k] for c in due]) for k in due[0]}


class JournalGenerator:
    """Generates the group's journals period by period (iterate `periods()`)."""

    def __init__(
        self,
        rng: np.random.Generator,
        fx: FxRates,
        volumes: Volumes,
        crm: Crm,
        payroll: Payroll,
        projects: Projects,
    ) -> None:
        self.rng, self.fx, self.vol, self.crm, self.payroll = rng, fx, volumes, crm, payroll
        self.projects = projects
        self.won_period = period_index_of(crm.won_day)
        nc = len(COMPANIES)
        self.unit = UNIT[COMPANY_CURRENCY]
        month_revenue = np.rint(volumes.revenue[:, 0] * 100).astype(np.int64)
        noise = rng.uniform(0.85, 1.15, (nc, len(_OPENING)))
        mult = np.array([m for _, m in _OPENING])
        self.opening = _round_unit(month_revenue[:, None] * mult * noise, self.unit[:, None])
        self.opening_accounts = np.array([acc(a) for a, _ in _OPENING])
        # cost centers by (company, function), padded for vectorised picks
        nf = len(FUNCTIONS)
        self.cc_count = np.zeros((nc, nf), dtype=np.int64)
        width = int(np.bincount(CC_COMPANY * nf + CC_FUNCTION).max())
        self.cc_table = np.full((nc, nf, width), -1, dtype=np.int64)
        for i, (c, f) in enumerate(zip(CC_COMPANY.tolist(), CC_FUNCTION.tolist(), strict=True)):
            self.cc_table[c, f, self.cc_count[c, f]] = i
            self.cc_count[c, f] += 1
        self.proj_count = np.bincount(projects.company, minlength=nc)
        self.proj_table = np.full((nc, max(1, int(self.proj_count.max()))), -1, dtype=np.int64)
        for i, c in enumerate(projects.company.tolist()):
            self.proj_table[c, np.count_nonzero(projects.company[:i] == c)] = i
        self.foreign = [
            np.array([CURRENCIES.index(x) for x in FOREIGN_CURRENCIES[c.code]]) for c in COMPANIES
        ]
        self.receipts, self.payments, self.reversals = _Queue(), _Queue(), _Queue()
        self.counters: dict[tuple[int, int], int] = {}

    # ------------------------------------------------------------ helpers
    def _pick_cc(self, company: np.ndarray, function: np.ndarray) -> np.ndarray:
        n = self.cc_count[company, function]
        return self.cc_table[
            company, function, (self.rng.random(len(company)) * n).astype(np.int64)
        ]

    def _bday(self, period: Period, n: int) -> np.ndarray:
        bdays = period.business_days
        return bdays[self.rng.integers(0, len(bdays), n)]

    def _settle_day(
        self, posted: np.ndarray, company: np.ndarray, period: Period, lo: int, hi: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(settlement day lo..hi business days later, forced) where each company's
        earliest document of the period is forced to settle within it, so that
        every period has settlements."""
        out = add_business_days(posted, self.rng.integers(lo, hi, len(posted)))
        order = np.lexsort((posted, company))
        first = order[np.r_[True, np.diff(company[order]) != 0]]
        early = first[posted[first] < period.last_business_day]
        out[early] = np.minimum(out[early], period.last_business_day)
        forced = np.zeros(len(posted), dtype=bool)
        forced[early] = True
        return out, forced

    # ------------------------------------------------------------ document kinds
    def _opening(self, period: Period) -> Part:
        nc, na = self.opening.shape
        doc = np.repeat(np.arange(nc), na + 1)
        amounts = np.concatenate([self.opening, -self.opening.sum(axis=1, keepdims=True)], axis=1)
        accounts = np.tile(np.r_[self.opening_accounts, acc("330000")], nc)
        return make_part(
            self.fx,
            "AB",
            company=np.arange(nc),
            posting=period.first_business_day,
            currency=COMPANY_CURRENCY,
            line_doc=doc,
            account=accounts,
            amount=amounts.ravel(),
            reference=f"OPEN-{period.yyyymm}",
        )

    def _sales(self, period: Period) -> tuple[Part, Part]:
        rng, crm = self.rng, self.crm
        w = np.flatnonzero(self.won_period == period.index)
        comp, cur, amount = crm.won_company[w], crm.won_currency[w], crm.won_amount[w]
        posting, n = crm.won_day[w], len(w)
        k = rng.choice(np.arange(1, 5), n, p=[0.3, 0.3, 0.25, 0.15])
        doc, pos = _expand(k)
        perm = np.argsort(rng.random((n, PRODUCTS_PER_FAMILY)), axis=1)
        product = crm.won_family[w][doc] * PRODUCTS_PER_FAMILY + perm[doc, pos]
        revenue = _split(amount, rng.uniform(0.2, 1.0, len(doc)), doc, UNIT[cur])
        account = REVENUE_ACCOUNT[PRODUCT_LINE[product]]
        customer = crm.won_account[w]
        refs = np.asarray(crm.won_id.take(pa.array(w)).to_pylist(), dtype=object)
        rv = make_part(
            self.fx,
            "RV",
            company=comp,
            posting=posting,
            currency=cur,
            line_doc=np.r_[doc, np.arange(n)],
            account=np.r_[account, np.full(n, acc("110000"))],
            amount=np.r_[-revenue, amount],
            product=np.r_[product, np.full(n, -1)],
            customer=np.r_[customer[doc], customer],
            reference=refs,
        )
        func = COMPANY_CURRENCY[comp]
        rev_func = self.fx.convert(revenue, cur[doc], func[doc], posting[doc])
        ratio = COGS_RATIO[PRODUCT_LINE[product]] * rng.uniform(0.9, 1.1, len(doc))
        cogs = _round_unit(rev_func * ratio, UNIT[func[doc]])
        wl = make_part(
            self.fx,
            "WL",
            company=comp,
            posting=posting,
            currency=func,
            line_doc=np.r_[doc, np.arange(n)],
            account=np.r_[COGS_ACCOUNT[PRODUCT_LINE[product]], np.full(n, acc("120200"))],
            amount=np.r_[cogs, -np.bincount(doc, cogs, minlength=n).astype(np.int64)],
            product=np.r_[product, np.full(n, -1)],
            reference=refs,
        )
        return rv, wl

    def _settlements(
        self, period: Period, q: dict[str, np.ndarray] | None, kind: str
    ) -> Part | None:
        """DZ / KZ: clear the open item at its booked company-code amount, move cash
        at today's rate, and post the difference as realised FX."""
        if q is None:
            return None
        n = len(q["company"])
        ids = np.arange(n)
        receipt = kind == "DZ"
        open_acc, cash_acc = (
            (acc("110000"), acc("100200")) if receipt else (acc("200000"), acc("100000"))
        )
        sign = (
            -1 if receipt else 1
        )  # a receipt credits the receivable, a payment debits the payable
        fixed = np.r_[-q["open_cc"], np.full(2 * n, MISSING)]
        return make_part(
            self.fx,
            kind,
            company=q["company"],
            posting=q["day"],
            currency=q["currency"],
            line_doc=np.r_[ids, ids, ids],
            account=np.r_[np.full(n, open_acc), np.full(n, cash_acc), np.full(n, acc("720000"))],
            amount=np.r_[sign * q["amount"], -sign * q["amount"], np.zeros(n, dtype=np.int64)],
            customer=np.r_[q["customer"], q["customer"], np.full(n, -1)],
            fixed_cc=fixed,
            reference=q["number"],
        )

    def _vendor_invoices(self, period: Period, cogs_by_company: np.ndarray) -> list[Part]:
        rng, p = self.rng, period.index
        counts = self.vol.vendor_invoices[:, p]
        comp = np.repeat(np.arange(len(COMPANIES)), counts)
        n = len(comp)
        func = COMPANY_CURRENCY[comp]
        cur = func.copy()
        foreign = rng.random(n) < FOREIGN_PURCHASE_SHARE
        pick = rng.random(n)
        for ci in range(len(COMPANIES)):
            m = foreign & (comp == ci)
            cur[m] = self.foreign[ci][(pick[m] * len(self.foreign[ci])).astype(np.int64)]
        posting = self._bday(period, n)
        spend = self.vol.revenue[comp, p] * VENDOR_SPEND_SHARE / counts[comp]
        total_f = np.rint(spend * rng.lognormal(-0.18, 0.6, n) * 100).astype(np.int64)
        total = self.fx.convert(total_f, func, cur, posting)
        total = np.maximum(UNIT[cur], total // UNIT[cur] * UNIT[cur])
        k = rng.choice(np.arange(1, 6), n, p=[0.35, 0.25, 0.2, 0.12, 0.08])
        doc, _ = _expand(k)
        weights = np.array([w for _, _, w in _NATURES], dtype=float)
        nature = rng.choice(len(_NATURES), len(doc), p=weights / weights.sum())
        function = np.array([f for _, f, _ in _NATURES])[nature]
        other = rng.random(len(doc)) < 0.3
        function[other] = rng.integers(0, len(FUNCTIONS), int(other.sum()))
        lc = comp[doc]
        cost_center = self._pick_cc(lc, function)
        has_proj = (rng.random(len(doc)) < 0.12) & (self.proj_count[lc] > 0)
        project = np.where(
            has_proj,
            self.proj_table[
                lc, (rng.random(len(doc)) * np.maximum(self.proj_count[lc], 1)).astype(np.int64)
            ],
            -1,
        )
        amount = _split(total, rng.uniform(0.2, 1.0, len(doc)), doc, UNIT[cur])
        vendor = rng.integers(1, 400, n)
        refs = np.array(
            [
                f"VI-{v:05d}-{i:06d}"
                for v, i in zip(vendor.tolist(), rng.integers(0, 10**6, n).tolist(), strict=True)
            ],
            dtype=object,
        )
        nature_acc = np.array([acc(a) for a, _, _ in _NATURES])
        kr = make_part(
            self.fx,
            "KR",
            company=comp,
            posting=posting,
            currency=cur,
            document_date=posting - rng.integers(0, 10, n),
            line_doc=np.r_[doc, np.arange(n)],
            account=np.r_[nature_acc[nature], np.full(n, acc("200000"))],
            amount=np.r_[amount, -total],
            cost_center=np.r_[cost_center, np.full(n, -1)],
            project=np.r_[project, np.full(n, -1)],
            reference=refs,
        )
        # replenishment of finished goods, sized on the period's cost of sales
        nc = len(COMPANIES)
        stock = _round_unit(cogs_by_company * rng.uniform(0.9, 1.1, nc), self.unit)
        stock = np.maximum(self.unit, stock)
        ids = np.arange(nc)
        inv = make_part(
            self.fx,
            "KR",
            company=ids,
            posting=self._bday(period, nc),
            currency=COMPANY_CURRENCY,
            line_doc=np.r_[ids, ids],
            account=np.r_[np.full(nc, acc("120200")), np.full(nc, acc("200000"))],
            amount=np.r_[stock, -stock],
            reference=np.array(
                [f"VI-STOCK-{period.yyyymm}-{c}" for c in COMPANY_CODES], dtype=object
            ),
        )
        return [kr, inv]

    def _payroll(self, period: Period) -> Part:
        ccs, gross, taxes, benefits = self.payroll.by_cost_center(period.index)
        comp_of = CC_COMPANY[ccs]
        companies = np.unique(comp_of)
        doc_of = np.searchsorted(companies, comp_of)
        nd = len(companies)
        sums = [
            np.bincount(doc_of, v, minlength=nd).astype(np.int64) for v in (gross, taxes, benefits)
        ]
        ids = np.arange(nd)
        return make_part(
            self.fx,
            "PR",
            company=companies,
            posting=period.last_business_day,
            currency=COMPANY_CURRENCY[companies],
            line_doc=np.r_[doc_of, doc_of, doc_of, ids, ids, ids],
            account=np.r_[
                np.full(len(ccs), acc("600000")),
                np.full(len(ccs), acc("601000")),
                np.full(len(ccs), acc("602000")),
                np.full(nd, acc("100100")),
                np.full(nd, acc("212000")),
                np.full(nd, acc("213000")),
            ],
            amount=np.r_[gross, taxes, benefits, -sums[0], -sums[1], -sums[2]],
            cost_center=np.r_[ccs, ccs, ccs, np.full(3 * nd, -1)],
            reference=np.array(
                [f"PAYRUN-{COMPANY_CODES[c]}-{period.yyyymm}" for c in companies], dtype=object
            ),
        )

    def _accruals(self, period: Period) -> Part:
        rng = self.rng
        comp = np.repeat(np.arange(len(COMPANIES)), self.vol.accruals)
        n = len(comp)
        k = rng.integers(1, 3, n)
        doc, _ = _expand(k)
        nature = rng.integers(0, len(_ACCRUAL_NATURES), len(doc))
        function = np.array([f for _, f in _ACCRUAL_NATURES])[nature]
        lc = comp[doc]
        unit = self.unit[lc]
        size = self.vol.revenue[lc, period.index] * 0.04 / self.vol.accruals[lc]
        amount = np.maximum(
            unit, _round_unit(size * rng.lognormal(-0.1, 0.4, len(doc)) * 100, unit)
        )
        total = np.bincount(doc, amount, minlength=n).astype(np.int64)
        seq = np.arange(n) - np.r_[0, np.cumsum(self.vol.accruals)[:-1]][comp] + 1
        return make_part(
            self.fx,
            "SA",
            company=comp,
            posting=period.last_business_day,
            currency=COMPANY_CURRENCY[comp],
            line_doc=np.r_[doc, np.arange(n)],
            account=np.r_[
                np.array([acc(a) for a, _ in _ACCRUAL_NATURES])[nature], np.full(n, acc("210000"))
            ],
            amount=np.r_[amount, -total],
            cost_center=np.r_[self._pick_cc(lc, function), np.full(n, -1)],
            reference=np.array(
                [
                    f"ACCR-{COMPANY_CODES[c]}-{period.yyyymm}-{s:03d}"
                    for c, s in zip(comp.tolist(), seq.tolist(), strict=True)
                ],
                dtype=object,
            ),
        )

    def _reversals(self, period: Period) -> Part | None:
        q = self.reversals.pop(period.index)
        if q is None:
            return None
        docs, doc = np.unique(q["doc"], return_inverse=True)
        first = np.r_[0, np.flatnonzero(np.diff(doc)) + 1]
        return make_part(
            self.fx,
            "SA",
            company=q["company"][first],
            posting=period.first_business_day,
            currency=q["currency"][first],
            line_doc=doc,
            account=q["account"],
            amount=-q["amount"],
            cost_center=q["cost_center"],
            fixed_cc=-q["cc_amount"],
            reference=q["reference"][first],
            reversal_of=q["number"][first],
        )

    def _depreciation(self, period: Period) -> Part:
        nc = len(COMPANIES)
        idx = {a: i for i, (a, _) in enumerate(_OPENING)}
        monthly = np.stack(
            [
                _round_unit(self.opening[:, idx[a]] / life, self.unit)
                for a, _, life in _DEPRECIATION
            ],
            axis=1,
        )
        dep = monthly[:, :-1].sum(axis=1)  # property, plant and equipment
        amort = monthly[:, -1]
        # depreciation split over operations, G&A and R&D; amortisation to G&A
        share = np.array([0.5, 0.3, 0.2])
        split = _round_unit(dep[:, None] * share, self.unit[:, None])
        split[:, 0] += dep - split.sum(axis=1)
        ids = np.arange(nc)
        ccs = np.stack([self.cc_table[ids, f, 0] for f in (F_OPS, F_GA, F_RND)], axis=1)
        debit_doc = np.repeat(ids, 4)
        debit_acc = np.tile([acc("670000")] * 3 + [acc("671000")], nc)
        debit_amt = np.concatenate([split, amort[:, None]], axis=1).ravel()
        debit_cc = np.concatenate([ccs, self.cc_table[ids, F_GA, 0][:, None]], axis=1).ravel()
        credit_doc = np.repeat(ids, len(_DEPRECIATION))
        credit_acc = np.tile([acc(a) for _, a, _ in _DEPRECIATION], nc)
        return make_part(
            self.fx,
            "AF",
            company=ids,
            posting=period.last_business_day,
            currency=COMPANY_CURRENCY,
            line_doc=np.r_[debit_doc, credit_doc],
            account=np.r_[debit_acc, credit_acc],
            amount=np.r_[debit_amt, -monthly.ravel()],
            cost_center=np.r_[debit_cc, np.full(len(credit_doc), -1)],
            reference=f"DEPR-{period.yyyymm}",
        )

    def _intercompany(self, period: Period) -> list[Part]:
        subs = np.array([i for i, c in enumerate(COMPANIES) if c.code != PARENT])
        fee = (
            np.array([COMPANIES[i].ic_fee_usd for i in subs])
            * (1 + MONTHLY_GROWTH / 2) ** period.index
        )
        fee = np.rint(fee * 100).astype(np.int64)
        usd = CURRENCIES.index("USD")
        n = len(subs)
        ids = np.arange(n)
        refs = np.array([f"ICMF-{period.yyyymm}-{COMPANY_CODES[s]}" for s in subs], dtype=object)
        parent = make_part(
            self.fx,
            "IC",
            company=np.full(n, PARENT_IDX),
            posting=period.last_business_day,
            currency=usd,
            line_doc=np.r_[ids, ids],
            account=np.r_[np.full(n, acc("115000")), np.full(n, acc("480000"))],
            amount=np.r_[fee, -fee],
            partner=np.r_[subs, subs],
            reference=refs,
        )
        legs = make_part(
            self.fx,
            "IC",
            company=subs,
            posting=period.last_business_day,
            currency=usd,
            line_doc=np.r_[ids, ids],
            account=np.r_[np.full(n, acc("680000")), np.full(n, acc("205000"))],
            amount=np.r_[fee, -fee],
            partner=np.full(2 * n, PARENT_IDX),
            cost_center=np.r_[self.cc_table[subs, F_GA, 0], np.full(n, -1)],
            reference=refs,
        )
        return [parent, legs]

    def _income_tax(self, period: Period, parts: list[Part]) -> Part:
        nc = len(COMPANIES)
        result = np.zeros(nc, dtype=np.int64)
        for part in parts:
            m = ACCOUNT_IS_PL[part.account]
            np.add.at(result, part.company[part.line_doc[m]], part.cc_amount[m])
        profit = -result
        rate = np.array([c.tax_rate for c in COMPANIES])
        tax = _round_unit(profit * rate, self.unit)
        ids = np.arange(nc)
        return make_part(
            self.fx,
            "TX",
            company=ids,
            posting=period.last_business_day,
            currency=COMPANY_CURRENCY,
            line_doc=np.r_[ids, ids],
            account=np.r_[np.full(nc, acc("800000")), np.full(nc, acc("230000"))],
            amount=np.r_[tax, -tax],
            reference=f"TAX-{period.yyyymm}",
        )

    # ------------------------------------------------------------ assembly
    def period(self, period: Period) -> PeriodJournal:
        if period.fiscal_period == 1:
            self.counters = {}
        self.counters[-1] = 0  # the regional ERP numbers per month
        parts: list[Part] = []

        def post(*new: Part | None) -> None:
            for part in new:
                if part is not None:
                    self._number(period, part)
                    parts.append(part)

        if period.index == 0:
            post(self._opening(period))
        rv, wl = self._sales(period)
        post(rv, wl)
        cogs = np.zeros(len(COMPANIES), dtype=np.int64)
        np.add.at(cogs, wl.company[wl.line_doc], np.where(wl.amount > 0, wl.amount, 0))
        kr_parts = self._vendor_invoices(period, cogs)
        post(*kr_parts)
        self._queue_settlements(period, rv, kr_parts)
        post(self._settlements(period, self.receipts.pop(period.index), "DZ"))
        post(self._settlements(period, self.payments.pop(period.index), "KZ"))
        post(self._payroll(period))
        sa = self._accruals(period)
        post(sa, self._reversals(period), self._depreciation(period), *self._intercompany(period))
        self._queue_reversals(period, sa)
        post(self._income_tax(period, parts))
        return self._assemble(period, parts)

    def _number(self, period: Period, part: Part) -> None:
        """Document numbers in posting order: S/4 ranges per company, fiscal year and
        type (prefix + 8 digits); the regional ERP counts per month (LCyyyymm + 6)."""
        t = T[part.doc_type]
        order = np.lexsort((np.arange(part.n_docs), part.posting, part.company))
        comp = part.company[order]
        key = np.where(comp == REGIONAL_IDX, -1, comp * len(DOC_TYPES) + t)
        seq = np.empty(part.n_docs, dtype=np.int64)
        for k in np.unique(key).tolist():
            m = key == k
            base = self.counters.get(k, 0)
            seq[m] = base + np.arange(1, int(m.sum()) + 1)
            self.counters[k] = base + int(m.sum())
        s4 = (_NUMBER_PREFIX[t] * 100_000_000 + seq).astype(str)
        local = np.char.add(
            f"LC{period.year:04d}{period.month:02d}", np.char.zfill(seq.astype(str), 6)
        )
        numbers = np.empty(part.n_docs, dtype=object)
        numbers[order] = np.where(comp == REGIONAL_IDX, local, s4)
        part.numbers = numbers

    def _assemble(self, period: Period, parts: list[Part]) -> PeriodJournal:
        comp = np.concatenate([p.company for p in parts])
        dtype = np.concatenate([np.full(p.n_docs, T[p.doc_type]) for p in parts])
        posting = np.concatenate([p.posting for p in parts])
        numbers = np.concatenate([p.numbers for p in parts])
        order = np.lexsort((numbers, dtype, posting, comp))
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        doc_off = np.r_[0, np.cumsum([p.n_docs for p in parts])[:-1]]
        line_doc = rank[
            np.concatenate([p.line_doc + o for p, o in zip(parts, doc_off, strict=True)])
        ]
        lorder = np.argsort(line_doc, kind="stable")
        line_doc = line_doc[lorder]
        starts = np.r_[0, np.flatnonzero(np.diff(line_doc)) + 1]
        line_no = (
            np.arange(len(line_doc)) - np.repeat(starts, np.diff(np.r_[starts, len(line_doc)])) + 1
        )

        def lines(name: str) -> np.ndarray:
            return np.concatenate([getattr(p, name) for p in parts])[lorder]

        def docs(name: str) -> np.ndarray:
            return np.concatenate([getattr(p, name) for p in parts])[order]

        changed = (docs("posting") + 1) * 86_400_000_000 + self.rng.integers(
            3600, 6 * 3600, len(order)
        ) * 1_000_000
        return PeriodJournal(
            period=period,
            doc_company=comp[order],
            doc_type=dtype[order],
            doc_posting=posting[order],
            doc_date=docs("document_date"),
            doc_currency=docs("currency"),
            doc_number=numbers[order],
            doc_reference=docs("reference"),
            doc_reversal_of=docs("reversal_of"),
            doc_changed_us=changed,
            line_doc=line_doc,
            line_no=line_no,
            account=lines("account"),
            cost_center=lines("cost_center"),
            product=lines("product"),
            project=lines("project"),
            partner=lines("partner"),
            customer=lines("customer"),
            amount=lines("amount"),
            cc_amount=lines("cc_amount"),
        )

    def _queue_settlements(self, period: Period, rv: Part, kr_parts: list[Part]) -> None:
        rng = self.rng
        # receipts: the receivable is each invoice's last line
        last = rv.last_line
        day, forced = self._settle_day(rv.posting, rv.company, period, 10, 60)
        paid = forced | (rng.random(rv.n_docs) >= 0.03)  # a few invoices are never paid
        due = paid & (period_index_of(day) < len(PERIODS))
        self.receipts.push(
            period=period_index_of(day)[due],
            day=day[due],
            company=rv.company[due],
            currency=rv.currency[due],
            amount=rv.amount[last][due],
            open_cc=rv.cc_amount[last][due],
            customer=rv.customer[last][due],
            number=rv.numbers[due],
        )
        for kr in kr_parts:
            last = kr.last_line
            day, _ = self._settle_day(kr.posting, kr.company, period, 15, 60)
            due = period_index_of(day) < len(PERIODS)
            self.payments.push(
                period=period_index_of(day)[due],
                day=day[due],
                company=kr.company[due],
                currency=kr.currency[due],
                amount=-kr.amount[last][due],
                open_cc=kr.cc_amount[last][due],
                customer=np.full(int(due.sum()), -1),
                number=kr.numbers[due],
            )

    def _queue_reversals(self, period: Period, sa: Part) -> None:
        d = sa.line_doc
        self.reversals.push(
            period=np.full(len(d), period.index + 1),
            doc=d,
            company=sa.company[d],
            currency=sa.currency[d],
            account=sa.account,
            amount=sa.amount,
            cc_amount=sa.cc_amount,
            cost_center=sa.cost_center,
            reference=sa.reference[d],
            number=sa.numbers[d],
        )
