"""Funding rates of perpetual markets: when they fall and what they are.

At each funding time (every `funding_interval_hours` from 00:00 UTC) an open position of a
perpetual market pays sign(size) x rate x its notional at that time's price (longs pay when
the rate is positive); docs/engine.md has the rule. The `sim` exchange's rates are a pure
function of market and time (`sim_rate`); real exchanges' rates are downloaded into the
archive beside the candles.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

HOUR = 3600


@dataclass(frozen=True)
class FundingRates:
    """Funding times (Unix seconds, ascending) and the rate at each (0.0001 = 0.01 %)."""

    times: np.ndarray
    rates: np.ndarray

    @classmethod
    def empty(cls) -> FundingRates:
        return cls(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))

    def __len__(self) -> int:
        return len(self.times)

    def between(self, start: int | None, end: int | None) -> FundingRates:
        """The rates whose time is in [start, end)."""
        keep = np.ones(len(self.times), dtype=bool)
        if start is not None:
            keep &= self.times >= start
        if end is not None:
            keep &= self.times < end
        return FundingRates(self.times[keep], self.rates[keep])


def funding_times(start: int, end: int, interval_hours: float) -> np.ndarray:
    """Every funding time in [start, end): multiples of the interval counted from 00:00 UTC."""
    step = int(round(interval_hours * HOUR))
    if step <= 0 or end <= start:
        return np.empty(0, dtype=np.int64)
    first = -(-int(start) // step) * step
    return np.arange(first, int(end), step, dtype=np.int64)


def _seed(symbol: str) -> int:
    return int.from_bytes(hashlib.sha256(f"funding:{symbol}".encode()).digest()[:4], "little")


def sim_rate(symbol: str, times: np.ndarray) -> np.ndarray:
    """The sim exchange's funding rate of `symbol` at `times`: deterministic, about +/-0.01 %.

    rate(t) = 0.0001 * (0.5 * sin(2 pi d / 7 + phase) + 0.5 * sin(2 pi d / 2.3 + 2 phase)),
    d = t in days and phase = 2 pi * (a hash of the symbol) / 2**32: a weekly swing and a
    faster one, both within +/-0.01 %, the same at any time whatever range is asked for.
    """
    days = np.asarray(times, dtype=np.float64) / 86_400.0
    phase = 2.0 * math.pi * _seed(symbol) / 2**32
    return 0.0001 * (
        0.5 * np.sin(2.0 * math.pi * days / 7.0 + phase)
        + 0.5 * np.sin(2.0 * math.pi * days / 2.3 + 2 * phase)
    )


def sim_rates(symbol: str, start: int, end: int, interval_hours: float = 8.0) -> FundingRates:
    """The sim rates of `symbol` at its funding times in [start, end)."""
    times = funding_times(start, end, interval_hours)
    return FundingRates(times, sim_rate(symbol, times))
