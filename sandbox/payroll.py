"""Payroll (Workday-like): workers with fake PII and monthly payroll results.

The results are the sub-ledger the GL payroll journals (`PR`) are posted from,
so payroll expense per company, period and cost center ties to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sandbox import schemas
from sandbox.calendar import HISTORY_START, PERIODS, day
from sandbox.fx import decimal_array
from sandbox.master import (
    CC_CODES,
    CC_COMPANY,
    CC_FUNCTION,
    COMPANIES,
    COMPANY_CODES,
    COMPANY_CURRENCY,
    CURRENCIES,
    UNIT,
)

WORKERS_AT_SCALE_1 = 1500
MIN_WORKERS_PER_COST_CENTER = 3
PAYROLL_SHARE_OF_REVENUE = 0.27  # gross earnings / revenue
ANNUAL_RAISE = 0.03  # applied each April
_FUNCTION_WEIGHT = np.array([0.25, 0.10, 0.30, 0.20, 0.15])
_JOBS = (
    ("Account Executive", "Sales Manager", "Sales Engineer"),
    ("Marketing Specialist", "Marketing Manager"),
    ("Software Engineer", "Senior Software Engineer", "Product Manager"),
    ("Operations Analyst", "Support Engineer"),
    ("Accountant", "HR Partner", "Financial Controller"),
)
_FIRST = (
    "Ana",
    "Ben",
    "Carla",
    "David",
    "Emma",
    "Felix",
    "Giulia",
    "Hiro",
    "Ines",
    "Jonas",
    "Keiko",
    "Lucas",
    "Maria",
    "Noah",
    "Olivia",
    "Paul",
    "Rita",
    "Sven",
    "Tomoko",
    "Yuki",
)
_LAST = (
    "Almeida",
    "Baker",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hoffmann",
    "Ito",
    "Jensen",
    "Kato",
    "Lefebvre",
    "Martins",
    "Nakamura",
    "Oliveira",
    "Petit",
    "Schmidt",
    "Suzuki",
    "Taylor",
    "Wagner",
)


@dataclass(frozen=True)
class Payroll:
    workers: pa.Table
    results: pa.Table
    # per result row, for the GL
    period: np.ndarray
    cost_center: np.ndarray
    gross: np.ndarray
    taxes: np.ndarray
    benefits: np.ndarray

    def by_cost_center(self, period: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(cost centers, gross, taxes, benefits) summed for one period."""
        m = self.period == period
        ccs, inv = np.unique(self.cost_center[m], return_inverse=True)
        n = len(ccs)
        return (
            ccs,
            _isum(inv, self.gross[m], n),
            _isum(inv, self.taxes[m], n),
            _isum(inv, self.benefits[m], n),
        )


def _isum(groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, groups, values)
    return out


def _round_unit(x: np.ndarray, unit: np.ndarray) -> np.ndarray:
    return (np.rint(x / unit) * unit).astype(np.int64)


def make_payroll(rng: np.random.Generator, scale: float, revenue: np.ndarray) -> Payroll:
    """revenue[c, p]: the companies' target revenue, which sizes their payroll."""
    nc = len(COMPANIES)
    weights = np.array([c.weight for c in COMPANIES])
    # every cost center gets its floor of long-serving workers, the rest by function weight
    floor_cc = np.repeat(np.arange(len(CC_CODES)), MIN_WORKERS_PER_COST_CENTER)
    extra = np.maximum(
        0,
        np.rint(WORKERS_AT_SCALE_1 * scale * weights).astype(np.int64)
        - np.bincount(CC_COMPANY, minlength=nc) * MIN_WORKERS_PER_COST_CENTER,
    )
    extra_cc = []
    for ci in range(nc):
        ccs = np.flatnonzero(ci == CC_COMPANY)
        p = _FUNCTION_WEIGHT[CC_FUNCTION[ccs]]
        extra_cc.append(rng.choice(ccs, int(extra[ci]), p=p / p.sum()))
    cc = np.concatenate([floor_cc, *extra_cc])
    is_extra = np.arange(len(cc)) >= len(floor_cc)
    order = np.lexsort((np.arange(len(cc)), CC_COMPANY[cc]))
    cc, is_extra = cc[order], is_extra[order]
    n = len(cc)
    comp = CC_COMPANY[cc]

    hire = day("2012-01-01") + rng.integers(0, HISTORY_START - day("2012-01-01"), n)
    joiner = is_extra & (rng.random(n) < 0.15)
    hire[joiner] = HISTORY_START + rng.integers(
        0, PERIODS[-1].end - HISTORY_START - 30, int(joiner.sum())
    )
    leaver = is_extra & (rng.random(n) < 0.08)
    term = np.where(leaver, np.maximum(hire, HISTORY_START) + rng.integers(30, 700, n), -1)
    term[term > PERIODS[-1].end] = -1
    leaver = term >= 0

    # monthly salary: the company's payroll budget spread over its average headcount
    level = rng.lognormal(0.0, 0.3, n)
    level_sum = np.bincount(comp, level, minlength=nc)
    budget = revenue[:, 0] * PAYROLL_SHARE_OF_REVENUE  # functional units per month
    salary = budget[comp] * level / level_sum[comp] * 100  # hundredths

    # ---------------------------------------------------------------- results (worker x period)
    starts = np.array([p.start for p in PERIODS])
    ends = np.array([p.end for p in PERIODS])
    pay_days = np.array([p.last_business_day for p in PERIODS])
    fy = np.array([p.fiscal_year for p in PERIODS])
    first = np.maximum(hire[:, None], starts[None, :])
    last = np.where(leaver[:, None], np.minimum(term[:, None], ends[None, :]), ends[None, :])
    active_days = last - first + 1
    pi, wi = np.nonzero((active_days > 0).T)  # period-major, like pay runs
    fraction = active_days[wi, pi] / (ends - starts + 1)[pi]
    unit = UNIT[COMPANY_CURRENCY[comp[wi]]]
    raise_ = (1 + ANNUAL_RAISE) ** (fy[pi] - fy[0])
    gross = np.maximum(unit, _round_unit(salary[wi] * raise_ * fraction, unit))
    taxes = _round_unit(gross * np.array([c.payroll_tax_rate for c in COMPANIES])[comp[wi]], unit)
    benefits = _round_unit(
        gross
        * np.array([c.benefit_rate for c in COMPANIES])[comp[wi]]
        * rng.uniform(0.8, 1.2, len(wi)),
        unit,
    )

    worker_ids = [f"W{i + 100001}" for i in range(n)]
    country = [COMPANIES[c].country for c in comp.tolist()]
    fn = rng.integers(0, len(_FIRST), n)
    ln = rng.integers(0, len(_LAST), n)
    nat = rng.integers(0, 10**9, n)
    bank = rng.integers(0, 10**14, n)
    job_pick = rng.random(n)
    jobs = [
        _JOBS[f][int(j * len(_JOBS[f]))]
        for f, j in zip(CC_FUNCTION[cc].tolist(), job_pick.tolist(), strict=True)
    ]
    updated = np.maximum(hire, np.where(leaver, term, hire)) + 1
    workers = pa.table(
        {
            "Worker_ID": worker_ids,
            "Legal_Name": [
                f"{_FIRST[a]} {_LAST[b]}" for a, b in zip(fn.tolist(), ln.tolist(), strict=True)
            ],
            "National_ID": [
                f"{c}-FAKE-{x:09d}" for c, x in zip(country, nat.tolist(), strict=True)
            ],
            "Bank_Account": [
                f"{c}00FAKE{x:014d}" for c, x in zip(country, bank.tolist(), strict=True)
            ],
            "Company": pa.array(COMPANY_CODES).take(pa.array(comp)),
            "Cost_Center": pa.array(CC_CODES).take(pa.array(cc)),
            "Job_Profile": jobs,
            "Hire_Date": pa.array(hire.astype(np.int32), pa.date32()),
            "Termination_Date": pa.array(
                np.where(leaver, term, 0).astype(np.int32), pa.date32(), mask=~leaver
            ),
            "Last_Updated": pa.array(updated * 86_400_000_000 + 6 * 3_600_000_000, schemas.TS),
        },
        schema=schemas.WORKERS,
    )
    yyyymm = np.array([f"{p.year:04d}{p.month:02d}" for p in PERIODS])
    wid = np.array(worker_ids)
    results = pa.table(
        {
            "Payroll_Result_ID": pa.array(
                np.char.add(np.char.add(np.char.add("PRR-", wid[wi]), "-"), yyyymm[pi])
            ),
            "Worker_ID": pa.array(wid[wi]),
            "Company": pa.array(COMPANY_CODES).take(pa.array(comp[wi])),
            "Cost_Center": pa.array(CC_CODES).take(pa.array(cc[wi])),
            "Pay_Period_Start": pa.array(starts[pi].astype(np.int32), pa.date32()),
            "Pay_Period_End": pa.array(ends[pi].astype(np.int32), pa.date32()),
            "Payment_Date": pa.array(pay_days[pi].astype(np.int32), pa.date32()),
            "Currency": pa.array(CURRENCIES).take(pa.array(COMPANY_CURRENCY[comp[wi]])),
            "Gross_Earnings": decimal_array(gross, schemas.AMOUNT),
            "Employer_Taxes": decimal_array(taxes, schemas.AMOUNT),
            "Benefits": decimal_array(benefits, schemas.AMOUNT),
            "Last_Updated": pa.array(
                (pay_days[pi] + 1) * 86_400_000_000 + 6 * 3_600_000_000, schemas.TS
            ),
        },
        schema=schemas.PAYROLL_RESULTS,
    )
    return Payroll(workers, results, pi, cc[wi], gross, taxes, benefits)
