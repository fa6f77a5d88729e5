"""Fiscal calendar of Finsync Group: April fiscal year, named by the year it ends in.

Dates are handled as ``int`` days since 1970-01-01 (numpy ``datetime64[D]``
underneath) so that whole columns of posting dates stay vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FISCAL_YEAR_START_MONTH = 4
FIRST_FISCAL_YEAR = 2025
N_PERIODS = 24

# Group-wide bank holidays (month, day); weekends are never business days.
HOLIDAYS_MD = ((1, 1), (12, 25), (12, 26))

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day(iso: str) -> int:
    """Days since epoch of an ISO date."""
    return int(np.datetime64(iso, "D").astype(np.int64))


def iso(d: int) -> str:
    return str(np.datetime64(int(d), "D"))


def _holidays(first_year: int, last_year: int) -> np.ndarray:
    return np.array(
        [
            np.datetime64(f"{y:04d}-{m:02d}-{d:02d}", "D")
            for y in range(first_year, last_year + 1)
            for m, d in HOLIDAYS_MD
        ]
    )


_CAL = np.busdaycalendar(weekmask="1111100", holidays=_holidays(2020, 2035))


@dataclass(frozen=True)
class Period:
    """One fiscal period (a calendar month) of the history."""

    index: int  # 0-based position in the history
    fiscal_year: int
    fiscal_period: int  # 1..12
    year: int  # calendar year of the month
    month: int  # calendar month
    start: int  # first calendar day
    end: int  # last calendar day

    @property
    def key(self) -> str:
        """File key `<FiscalYear>-<FiscalPeriod:03>` of the bulk extract."""
        return f"{self.fiscal_year}-{self.fiscal_period:03d}"

    @property
    def month_label(self) -> str:
        """Anaplan time member, e.g. ``Apr 25``."""
        return f"{_MONTHS[self.month - 1]} {self.year % 100:02d}"

    @property
    def yyyymm(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def business_days(self) -> np.ndarray:
        return business_days(self.start, self.end)

    @property
    def first_business_day(self) -> int:
        return int(self.business_days[0])

    @property
    def last_business_day(self) -> int:
        return int(self.business_days[-1])


def fiscal_year_of(year: int, month: int) -> tuple[int, int]:
    """(fiscal year, fiscal period) of a calendar month."""
    fp = (month - FISCAL_YEAR_START_MONTH) % 12 + 1
    fy = year + 1 if month >= FISCAL_YEAR_START_MONTH else year
    return fy, fp


def make_period(index: int) -> Period:
    months = (FIRST_FISCAL_YEAR - 1) * 12 + (FISCAL_YEAR_START_MONTH - 1) + index
    year, month0 = divmod(months, 12)
    start = np.datetime64(f"{year:04d}-{month0 + 1:02d}-01", "D")
    end = (start.astype("datetime64[M]") + 1).astype("datetime64[D]") - 1
    fy, fp = fiscal_year_of(year, month0 + 1)
    return Period(index, fy, fp, year, month0 + 1, int(start.astype(int)), int(end.astype(int)))


PERIODS: tuple[Period, ...] = tuple(make_period(i) for i in range(N_PERIODS))
HISTORY_START = PERIODS[0].start
HISTORY_END = PERIODS[-1].end


def business_days(start: int, end: int) -> np.ndarray:
    """Business days in [start, end] as int days."""
    days = np.arange(start, end + 1, dtype=np.int64)
    mask = np.is_busday(days.astype("datetime64[D]"), busdaycal=_CAL)
    return days[mask]


def add_business_days(days: np.ndarray, n: np.ndarray | int) -> np.ndarray:
    """Roll each day forward to a business day, then move n business days."""
    out = np.busday_offset(
        np.asarray(days, dtype=np.int64).astype("datetime64[D]"), n, roll="forward", busdaycal=_CAL
    )
    return out.astype(np.int64)


def period_index_of(days: np.ndarray) -> np.ndarray:
    """History position of each day's month (may fall outside 0..N_PERIODS-1)."""
    months = np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]")
    first = np.datetime64(f"{FIRST_FISCAL_YEAR - 1}-{FISCAL_YEAR_START_MONTH:02d}", "M")
    return (months - first).astype(np.int64)
