"""FP&A (Anaplan-like): budget and forecast versions by entity x account x cost
center x month, derived from the actuals with noise so that budget-vs-actual
variances are realistic but traceable.

Forecast versions follow the n+m convention: the first n months hold actuals
exactly, the remaining m months are forecast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sandbox import schemas
from sandbox.calendar import PERIODS, day
from sandbox.fx import decimal_array
from sandbox.master import (
    ACCOUNT_CODES,
    CC_CODES,
    COMPANY_CODES,
    COMPANY_CURRENCY,
    CURRENCIES,
    UNIT,
)


@dataclass(frozen=True)
class Version:
    code: str
    name: str
    kind: str  # Budget or Forecast
    fiscal_year: int
    status: str
    submitted: str  # ISO timestamp (UTC)
    actual_months: int  # leading months copied from actuals
    noise: float  # relative standard deviation of the planned months
    bias: float  # planning optimism on the planned months


VERSIONS = (
    Version("BUD_FY2025", "Budget FY2025", "Budget", 2025, "Approved",
            "2024-03-15T10:00:00", 0, 0.08, 1.03),
    Version("BUD_FY2026", "Budget FY2026", "Budget", 2026, "Approved",
            "2025-03-14T10:00:00", 0, 0.08, 1.04),
    Version("FC1_FY2026", "Forecast 1 FY2026 (3+9)", "Forecast", 2026, "Approved",
            "2025-07-11T15:30:00", 3, 0.05, 1.01),
    Version("FC2_FY2026", "Forecast 2 FY2026 (6+6)", "Forecast", 2026, "Submitted",
            "2025-10-10T15:30:00", 6, 0.04, 1.0),
)  # fmt: skip

Actuals = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # company, account, cc, amount


NO_COST_CENTER = "NONE"


def versions_table() -> pa.Table:
    def ts(iso: str) -> int:
        date, time = iso.split("T")
        h, m, s = (int(x) for x in time.split(":"))
        return (day(date) * 86_400 + h * 3600 + m * 60 + s) * 1_000_000

    return pa.table(
        {
            "Version": [v.code for v in VERSIONS],
            "Version_Name": [v.name for v in VERSIONS],
            "Version_Type": [v.kind for v in VERSIONS],
            "Fiscal_Year": pa.array([v.fiscal_year for v in VERSIONS], pa.int32()),
            "Status": [v.status for v in VERSIONS],
            "Submitted_At": pa.array([ts(v.submitted) for v in VERSIONS], schemas.TS),
        },
        schema=schemas.PLAN_VERSIONS,
    )


def plan_lines_table(rng: np.random.Generator, actuals: list[Actuals]) -> pa.Table:
    """actuals[p]: P&L actuals of history period p in company-code currency."""
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("v", "c", "a", "cc", "p", "amt")}
    for vi, v in enumerate(VERSIONS):
        for p in (p for p in PERIODS if p.fiscal_year == v.fiscal_year):
            comp, account, cc, amount = actuals[p.index]
            unit = UNIT[COMPANY_CURRENCY[comp]]
            if p.fiscal_period <= v.actual_months:
                planned = amount
            else:
                factor = v.bias * rng.lognormal(-(v.noise**2) / 2, v.noise, len(amount))
                planned = (np.rint(amount * factor / unit) * unit).astype(np.int64)
            keep = planned != 0
            cols["v"].append(np.full(int(keep.sum()), vi))
            cols["c"].append(comp[keep])
            cols["a"].append(account[keep])
            cols["cc"].append(cc[keep])
            cols["p"].append(np.full(int(keep.sum()), p.index))
            cols["amt"].append(planned[keep])
    v, c, a, cc, p, amt = (np.concatenate(cols[k]) for k in ("v", "c", "a", "cc", "p", "amt"))
    labels = [per.month_label for per in PERIODS]
    return pa.table(
        {
            "Version": pa.array([x.code for x in VERSIONS]).take(pa.array(v)),
            "Entity": pa.array(COMPANY_CODES).take(pa.array(c)),
            "Account": pa.array(ACCOUNT_CODES).take(pa.array(a)),
            # Anaplan lists have no blanks: lines without a cost center use the NONE member
            "Cost_Center": pa.array([*CC_CODES, NO_COST_CENTER]).take(
                pa.array(np.where(cc < 0, len(CC_CODES), cc))
            ),
            "Month": pa.array(labels).take(pa.array(p)),
            "Currency": pa.array(CURRENCIES).take(pa.array(COMPANY_CURRENCY[c])),
            "Amount": decimal_array(amt, schemas.AMOUNT),
        },
        schema=schemas.PLAN_LINES,
    )
