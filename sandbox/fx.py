"""Daily middle rates (type M) of the group's five currencies.

Each currency follows a mean-reverting random walk against USD; every ordered
pair is published as the USD cross rounded to 8 decimals. Conversions in the
journals use exactly the published (rounded) rate, in integer arithmetic, so
that anyone can recompute a functional amount from the extract.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sandbox import schemas
from sandbox.calendar import HISTORY_END, HISTORY_START
from sandbox.master import CURRENCIES, UNIT

MARGIN_DAYS = 14
RATE_SCALE = 100_000_000  # rates are held as int64 units of 1e-8
# USD value of one unit of each currency at the start, long-run level, daily volatility.
_START = np.array([1.0, 1.08, 1.27, 1 / 151.0, 1 / 5.05])
_MEAN = np.array([1.0, 1.09, 1.28, 1 / 148.0, 1 / 5.50])
_VOL = np.array([0.0, 0.0040, 0.0042, 0.0055, 0.0080])
_REVERSION = 0.01


@dataclass(frozen=True)
class FxRates:
    first_day: int
    days: np.ndarray  # int days, every calendar day
    rates: np.ndarray  # int64 [from, to, day index], published rate * 1e8

    def rate(self, from_cur: np.ndarray, to_cur: np.ndarray, days: np.ndarray) -> np.ndarray:
        idx = np.clip(np.asarray(days) - self.first_day, 0, len(self.days) - 1)
        return self.rates[from_cur, to_cur, idx]

    def convert(
        self, amount: np.ndarray, from_cur: np.ndarray, to_cur: np.ndarray, days: np.ndarray
    ) -> np.ndarray:
        """Hundredths of from_cur -> hundredths of to_cur at the published rate,
        rounded half away from zero to to_cur's smallest unit."""
        amount = np.asarray(amount, dtype=np.int64)
        from_cur = np.broadcast_to(from_cur, amount.shape)
        to_cur = np.broadcast_to(to_cur, amount.shape)
        same = from_cur == to_cur
        out = amount.copy()
        if (~same).any():
            m = ~same
            q = self.rate(from_cur[m], to_cur[m], np.broadcast_to(days, amount.shape)[m])
            out[m] = convert_exact(amount[m], q, UNIT[to_cur[m]])
        return out

    def table(self) -> pa.Table:
        n = len(CURRENCIES)
        pairs = [(a, b) for a in range(n) for b in range(n) if a != b]
        nd = len(self.days)
        frm = np.repeat([p[0] for p in pairs], nd)
        to = np.repeat([p[1] for p in pairs], nd)
        days = np.tile(self.days, len(pairs))
        cur = pa.array(CURRENCIES)
        return pa.table(
            {
                "ExchangeRateType": pa.array(["M"] * len(days)),
                "FromCurrency": cur.take(pa.array(frm)),
                "ToCurrency": cur.take(pa.array(to)),
                "ValidFrom": pa.array(days.astype(np.int32), pa.date32()),
                "ExchangeRate": decimal_array(
                    self.rates[frm, to, days - self.first_day], schemas.RATE
                ),
            },
            schema=schemas.FX_RATES,
        )


def convert_exact(amount: np.ndarray, rate: np.ndarray, unit_to: np.ndarray) -> np.ndarray:
    """round(amount * rate / 1e8 / unit_to) * unit_to without overflow or floats.

    amount: int64 hundredths (|amount| < 4e13); rate: int64 * 1e-8 (< 1e13);
    the product is split so that every intermediate fits in int64.
    """
    sign = np.sign(amount)
    x = np.abs(amount)
    qh, ql = np.divmod(rate, 100_000)
    yq, yr = np.divmod(x * ql, 100_000)
    z = x * qh + yq  # amount * rate == z * 1e5 + yr
    d = 1000 * unit_to  # 1e8 * unit_to == d * 1e5
    quo, rz = np.divmod(z, d)
    up = 2 * (rz * 100_000 + yr) >= d * 100_000
    return sign * (quo + up) * unit_to


def decimal_array(minor: np.ndarray, type_: pa.Decimal128Type) -> pa.Array:
    """decimal128 array whose unscaled values are the given int64s (exact)."""
    minor = np.ascontiguousarray(minor, dtype=np.int64)
    words = np.empty((len(minor), 2), dtype=np.int64)
    words[:, 0] = minor
    words[:, 1] = minor >> 63
    return pa.Array.from_buffers(type_, len(minor), [None, pa.py_buffer(words.tobytes())])


def decimal_to_minor(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Unscaled int64 values of a decimal128 column (inverse of decimal_array)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    words = np.frombuffer(arr.buffers()[1], dtype=np.int64)
    return words[2 * arr.offset : 2 * (arr.offset + len(arr)) : 2].copy()


def make_rates(rng: np.random.Generator) -> FxRates:
    first = HISTORY_START - MARGIN_DAYS
    days = np.arange(first, HISTORY_END + MARGIN_DAYS + 1, dtype=np.int64)
    nd, nc = len(days), len(CURRENCIES)
    shocks = rng.standard_normal((nd, nc)) * _VOL
    log_level = np.empty((nd, nc))
    log_level[0] = np.log(_START)
    log_mean = np.log(_MEAN)
    for t in range(1, nd):  # one step per day, vectorised across currencies
        log_level[t] = log_level[t - 1] + _REVERSION * (log_mean - log_level[t - 1]) + shocks[t]
    usd = np.exp(log_level)  # USD per unit, [day, currency]
    cross = usd.T[:, None, :] / usd.T[None, :, :]  # [from, to, day]
    rates = np.rint(cross * RATE_SCALE).astype(np.int64)
    return FxRates(first, days, rates)
