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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bots import archive

if TYPE_CHECKING:
    from bots.exchanges.base import Exchange

HOUR = 3600
# Days of rates fetched and written at a time by `download`: an interrupted download keeps
# what it wrote (three pages of BitMEX's 500 rates at 8 h).
DOWNLOAD_WINDOW_DAYS = 90


@dataclass(frozen=True)
class FundingRates:
    """Funding times (Unix seconds, ascending) and the rate at each (0.0001 = 0.01 %)."""

    times: np.ndarray
    rates: np.ndarray

    @classmethod
    def empty(cls) -> FundingRates:
        return cls(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[int, float]]) -> FundingRates:
        """Rates from (time, rate) pairs in any order; of two at one time the last wins."""
        by_time = {int(t): float(r) for t, r in pairs}
        times = np.array(sorted(by_time), dtype=np.int64)
        return cls(times, np.array([by_time[t] for t in times.tolist()], dtype=np.float64))

    def pairs(self) -> list[list]:
        """[[time, rate], ...] as plain ints and floats (the API's `rates`)."""
        return [[t, r] for t, r in zip(self.times.tolist(), self.rates.tolist(), strict=True)]

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


def sim_rate(symbol: str, times: np.ndarray, interval_hours: float = 8.0) -> np.ndarray:
    """The sim exchange's funding rate of `symbol` at `times`: deterministic, about +/-0.01 %.

    rate(t) = 0.0001 * h / 8 * (0.5 * sin(2 pi d / 7 + phase) + 0.5 * sin(2 pi d / 2.3 + 2 phase)),
    d = t in days, h = the market's funding interval in hours (8 for every seeded market) and
    phase = 2 pi * (the first 4 bytes, little-endian, of sha256("funding:" + symbol)) / 2**32:
    a weekly swing and a faster one, within +/-0.01 % per 8 h, the same at any time whatever
    range is asked for (no state, no randomness: every process computes the same rates).
    """
    phase = 2.0 * math.pi * _seed(symbol) / 2**32
    # One math.sin per time, not numpy's vectorised sin: a rate must be the same float
    # whether it is computed alone (a live session at its funding time) or in a year's array.
    scale = 0.0001 * float(interval_hours) / 8.0
    out = np.empty(len(times), dtype=np.float64)
    for k, t in enumerate(np.asarray(times, dtype=np.int64).tolist()):
        days = t / 86_400.0
        out[k] = scale * (
            0.5 * math.sin(2.0 * math.pi * days / 7.0 + phase)
            + 0.5 * math.sin(2.0 * math.pi * days / 2.3 + 2 * phase)
        )
    return out


def sim_rates(symbol: str, start: int, end: int, interval_hours: float = 8.0) -> FundingRates:
    """The sim rates of `symbol` at its funding times in [start, end)."""
    times = funding_times(start, end, interval_hours)
    return FundingRates(times, sim_rate(symbol, times, interval_hours))


def archived(root, exchange: str, symbol: str, start: int | None, end: int | None) -> FundingRates:
    """The downloaded rates of one market with time in [start, end); empty when none are."""
    times, rates = archive.load_funding(root, exchange, symbol, start, end)
    return FundingRates(times, rates)


def download(
    source: Exchange,
    symbol: str,
    start: int,
    end: int,
    archive_root: str,
    *,
    exchange_name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Fetch the rates of [start, end) from `source` into the archive; return how many are new.

    Resumable like the candles' download: it starts after the newest archived rate when that
    lies inside the range, and writes merge by time, so running it twice adds nothing twice."""
    name = exchange_name or source.name
    window = DOWNLOAD_WINDOW_DAYS * archive.DAY
    cursor = start
    latest = archive.funding_latest_time(archive_root, name, symbol)
    if latest is not None and start <= latest < end:
        cursor = latest + 1
    added = 0
    while cursor < end:
        upto = min(end, cursor + window)
        rates = source.fetch_funding(symbol, cursor, upto)
        added += archive.write_funding(archive_root, name, symbol, rates.times, rates.rates)
        cursor = upto
        if progress:
            progress(cursor - start, end - start)
    return added
