"""CRM (Salesforce-like): customer accounts and opportunities.

Closed-won opportunities are the source of the sales invoices: the journals
post one invoice per won opportunity on its CloseDate, in its company and
currency, for exactly its Amount. Lost ones and the open pipeline (closing
after the history) exist only here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sandbox import schemas
from sandbox.calendar import HISTORY_END, PERIODS, add_business_days, day
from sandbox.fx import FxRates, decimal_array
from sandbox.master import (
    COMPANIES,
    COMPANY_CODES,
    COMPANY_CURRENCY,
    CURRENCIES,
    FAMILY_CODES,
    FOREIGN_CURRENCIES,
    UNIT,
)

FOREIGN_SHARE = 0.15
OPEN_STAGES = (  # stage, probability, forecast category, share
    ("Prospecting", 10, "Pipeline", 0.25),
    ("Qualification", 20, "Pipeline", 0.25),
    ("Needs Analysis", 40, "Best Case", 0.2),
    ("Proposal/Price Quote", 60, "Best Case", 0.15),
    ("Negotiation/Review", 80, "Commit", 0.15),
)
_INDUSTRIES = (
    "Manufacturing",
    "Retail",
    "Financial Services",
    "Healthcare",
    "Technology",
    "Energy",
    "Logistics",
    "Public Sector",
    "Media",
    "Consumer Goods",
)
_NAME_A = (
    "Acme",
    "Blue",
    "Cedar",
    "Delta",
    "Evergreen",
    "Falcon",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Keystone",
    "Lumen",
    "Meridian",
    "Nova",
    "Orion",
    "Pioneer",
    "Quartz",
    "Redwood",
    "Summit",
    "Titan",
    "Union",
    "Vertex",
    "Willow",
    "Zenith",
)
_NAME_B = (
    "Industries",
    "Foods",
    "Logistics",
    "Systems",
    "Retail",
    "Energy",
    "Health",
    "Motors",
    "Textiles",
    "Chemicals",
    "Labs",
    "Partners",
    "Holdings",
    "Works",
    "Trading",
)
_LEGAL = {"US": "Inc.", "DE": "GmbH", "FR": "SA", "GB": "plc", "JP": "KK", "BR": "Ltda"}


@dataclass(frozen=True)
class Crm:
    accounts: pa.Table
    opportunities: pa.Table
    account_ids: pa.Array
    # closed-won opportunities, the sales invoices' source (numpy, one row per won opp)
    won_id: pa.Array
    won_company: np.ndarray
    won_currency: np.ndarray
    won_amount: np.ndarray  # hundredths of the opportunity currency
    won_day: np.ndarray
    won_family: np.ndarray
    won_account: np.ndarray


def _ids(prefix: str, company: np.ndarray, seq: np.ndarray) -> list[str]:
    return [
        f"{prefix}Fs{c:02d}{s:011d}" for c, s in zip(company.tolist(), seq.tolist(), strict=True)
    ]


def _ts(days: np.ndarray, rng: np.random.Generator, lo_h: int, hi_h: int) -> pa.Array:
    us = days * 86_400_000_000 + rng.integers(lo_h * 3600, hi_h * 3600, len(days)) * 1_000_000
    return pa.array(us, schemas.TS)


def make_crm(
    rng: np.random.Generator, fx: FxRates, won_counts: np.ndarray, revenue: np.ndarray
) -> Crm:
    """won_counts[c, p]: closed-won opportunities; revenue[c, p]: target revenue
    (functional currency units) of company c in period p."""
    nc, npd = won_counts.shape
    # ---------------------------------------------------------------- accounts
    n_acc = np.maximum(20, won_counts.sum(axis=1) // 6)
    acc_company = np.repeat(np.arange(nc), n_acc)
    acc_seq = np.concatenate([np.arange(1, n + 1) for n in n_acc])
    acc_ids = _ids("001", acc_company, acc_seq)
    a = rng.integers(0, len(_NAME_A), len(acc_ids))
    b = rng.integers(0, len(_NAME_B), len(acc_ids))
    names = [
        f"{_NAME_A[i]} {_NAME_B[j]} {k} {_LEGAL[COMPANIES[c].country]}"
        for i, j, k, c in zip(
            a.tolist(), b.tolist(), acc_seq.tolist(), acc_company.tolist(), strict=True
        )
    ]
    created_days = day("2019-01-01") + rng.integers(0, 1900, len(acc_ids))
    modified_days = created_days + rng.integers(0, 300, len(acc_ids))
    country = pa.array([c.country for c in COMPANIES]).take(pa.array(acc_company))
    accounts = pa.table(
        {
            "Id": acc_ids,
            "Name": names,
            "BillingCountry": country,
            "Industry": pa.array(_INDUSTRIES).take(
                pa.array(rng.integers(0, len(_INDUSTRIES), len(acc_ids)))
            ),
            "Legal_Entity__c": pa.array(COMPANY_CODES).take(pa.array(acc_company)),
            "CreatedDate": _ts(created_days, rng, 8, 18),
            "LastModifiedDate": _ts(modified_days, rng, 19, 23),
        },
        schema=schemas.CRM_ACCOUNTS,
    )
    acc_start = np.concatenate([[0], np.cumsum(n_acc)[:-1]])

    # ---------------------------------------------------------------- closed opportunities
    lost_counts = np.maximum(1, np.rint(won_counts * 0.7).astype(np.int64))
    parts = []
    for kind, counts in (("won", won_counts), ("lost", lost_counts)):
        comp = np.repeat(np.repeat(np.arange(nc), npd), counts.ravel())
        per = np.repeat(np.tile(np.arange(npd), nc), counts.ravel())
        close = np.empty(len(comp), dtype=np.int64)
        for p in range(npd):  # a handful of calendar lookups, not a row loop
            m = per == p
            bdays = PERIODS[p].business_days
            close[m] = bdays[rng.integers(0, len(bdays), int(m.sum()))]
        weight = rng.lognormal(0.0, 0.7, len(comp))
        group = comp * npd + per
        wsum = np.bincount(group, weight, minlength=nc * npd)
        functional = revenue.ravel()[group] * weight / wsum[group]
        parts.append((kind, comp, close, functional))
    # ---------------------------------------------------------------- open pipeline
    per_company = np.rint(won_counts.mean(axis=1) * 3).astype(np.int64)
    comp = np.repeat(np.arange(nc), per_company)
    close = add_business_days(HISTORY_END + 1 + rng.integers(0, 180, len(comp)), 0)
    functional = (
        revenue[:, -1][comp]
        / np.maximum(won_counts[:, -1][comp], 1)
        * rng.lognormal(0, 0.7, len(comp))
    )
    parts.append(("open", comp, close, functional))

    kind = np.concatenate([np.full(len(p[1]), p[0]) for p in parts])
    comp = np.concatenate([p[1] for p in parts])
    close = np.concatenate([p[2] for p in parts])
    functional = np.concatenate([p[3] for p in parts])
    n = len(comp)

    func_cur = COMPANY_CURRENCY[comp]
    currency = func_cur.copy()
    foreign = rng.random(n) < FOREIGN_SHARE
    pick = rng.random(n)
    for ci, c in enumerate(COMPANIES):
        m = foreign & (comp == ci)
        options = np.array([CURRENCIES.index(x) for x in FOREIGN_CURRENCIES[c.code]])
        currency[m] = options[(pick[m] * len(options)).astype(np.int64)]
    amount_f = np.rint(functional * 100).astype(np.int64)
    amount = fx.convert(amount_f, func_cur, currency, close)
    unit = UNIT[currency]
    amount = np.maximum(unit, (amount // unit) * unit)

    family = rng.integers(0, len(FAMILY_CODES), n)
    account = acc_start[comp] + (rng.random(n) * n_acc[comp]).astype(np.int64)
    created = close - rng.integers(20, 200, n)
    is_won, is_lost, is_open = kind == "won", kind == "lost", kind == "open"
    stage_i = rng.choice(len(OPEN_STAGES), n, p=[s[3] for s in OPEN_STAGES])
    stage = np.where(
        is_won,
        "Closed Won",
        np.where(is_lost, "Closed Lost", np.array([s[0] for s in OPEN_STAGES])[stage_i]),
    )
    prob = np.where(
        is_won, 100, np.where(is_lost, 0, np.array([s[1] for s in OPEN_STAGES])[stage_i])
    )
    forecast = np.where(
        is_won,
        "Closed",
        np.where(is_lost, "Omitted", np.array([s[2] for s in OPEN_STAGES])[stage_i]),
    )
    modified = np.where(is_open, np.minimum(HISTORY_END, created + rng.integers(1, 120, n)), close)

    order = np.lexsort((comp, created))  # ids in creation order, like a real org
    seq = np.empty(n, dtype=np.int64)
    seq[order] = np.arange(1, n + 1)
    ids = pa.array(_ids("006", comp, seq))
    fam_names = np.array(FAMILY_CODES)[family]
    opp_names = [f"{f} {s}" for f, s in zip(fam_names.tolist(), seq.tolist(), strict=True)]
    table = pa.table(
        {
            "Id": ids,
            "AccountId": pa.array(acc_ids).take(pa.array(account)),
            "Name": opp_names,
            "Legal_Entity__c": pa.array(COMPANY_CODES).take(pa.array(comp)),
            "Product_Family__c": pa.array(fam_names),
            "Amount": decimal_array(amount, schemas.AMOUNT),
            "CurrencyIsoCode": pa.array(CURRENCIES).take(pa.array(currency)),
            "StageName": pa.array(stage),
            "Probability": pa.array(prob.astype(np.int32)),
            "ForecastCategoryName": pa.array(forecast),
            "CloseDate": pa.array(close.astype(np.int32), pa.date32()),
            "IsClosed": pa.array(~is_open),
            "IsWon": pa.array(is_won),
            "CreatedDate": _ts(created, rng, 8, 18),
            "LastModifiedDate": _ts(modified, rng, 18, 23),
        },
        schema=schemas.OPPORTUNITIES,
    ).take(pa.array(order))
    w = np.flatnonzero(is_won)
    w = w[np.lexsort((w, close[w]))]  # invoices in close-date order
    return Crm(
        accounts=accounts,
        opportunities=table,
        account_ids=pa.array(acc_ids),
        won_id=ids.take(pa.array(w)),
        won_company=comp[w],
        won_currency=currency[w],
        won_amount=amount[w],
        won_day=close[w],
        won_family=family[w],
        won_account=account[w],
    )
