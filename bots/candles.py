"""Candles as numpy column arrays: open time (int64 Unix seconds, UTC), OHLC and volume."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# Seconds per timeframe: the timeframes the engine runs and archives.
TIMEFRAMES: dict[str, int] = {
    "1s": 1,
    "5s": 5,
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "1h": 3600,
    "4h": 14400,
    "1d": 86400,
}

COLUMNS = ("time", "open", "high", "low", "close", "volume")
PRICE_COLUMNS = ("open", "high", "low", "close", "volume")


def timeframe_seconds(timeframe: str) -> int:
    """Seconds of a timeframe name; ValueError naming the valid ones otherwise."""
    try:
        return TIMEFRAMES[timeframe]
    except KeyError:
        raise ValueError(
            f"Unknown timeframe {timeframe!r}; expected one of {', '.join(TIMEFRAMES)}."
        ) from None


@dataclass(eq=False)
class Candles:
    """A column store of candles sorted by open time (not enforced on construction)."""

    time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __post_init__(self) -> None:
        self.time = np.ascontiguousarray(self.time, dtype=np.int64)
        for name in PRICE_COLUMNS:
            setattr(self, name, np.ascontiguousarray(getattr(self, name), dtype=np.float64))
        n = len(self.time)
        if any(len(getattr(self, name)) != n for name in PRICE_COLUMNS):
            raise ValueError("Candle columns differ in length.")

    @classmethod
    def empty(cls) -> Candles:
        return cls(np.empty(0, np.int64), *(np.empty(0) for _ in PRICE_COLUMNS))

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[float]]) -> Candles:
        """From (time, open, high, low, close, volume) rows."""
        rows = list(rows)
        if not rows:
            return cls.empty()
        arr = np.asarray(rows, dtype=np.float64).reshape(len(rows), 6)
        times = np.asarray([int(r[0]) for r in rows], dtype=np.int64)
        return cls(times, arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4], arr[:, 5])

    def __len__(self) -> int:
        return len(self.time)

    def __getitem__(self, index: slice | np.ndarray) -> Candles:
        """Rows by slice, index array or boolean mask; a single int gives one row as Candles."""
        if isinstance(index, (int, np.integer)):
            index = slice(index, index + 1 if index != -1 else None)
        return Candles(*(getattr(self, name)[index] for name in COLUMNS))

    def columns(self) -> tuple[np.ndarray, ...]:
        return tuple(getattr(self, name) for name in COLUMNS)

    def row(self, i: int) -> tuple[int, float, float, float, float, float]:
        return (
            int(self.time[i]),
            float(self.open[i]),
            float(self.high[i]),
            float(self.low[i]),
            float(self.close[i]),
            float(self.volume[i]),
        )

    def rows(self) -> list[tuple[int, float, float, float, float, float]]:
        return list(
            zip(
                self.time.tolist(),
                self.open.tolist(),
                self.high.tolist(),
                self.low.tolist(),
                self.close.tolist(),
                self.volume.tolist(),
                strict=True,
            )
        )

    def between(self, start: int | None, end: int | None) -> Candles:
        """Candles whose open time is in [start, end) (None = unbounded); assumes sorted."""
        lo = 0 if start is None else int(np.searchsorted(self.time, start, side="left"))
        hi = len(self) if end is None else int(np.searchsorted(self.time, end, side="left"))
        return self[lo : max(lo, hi)]

    def sorted_unique(self) -> Candles:
        """Sorted by time, one candle per time (the last given wins)."""
        if len(self) == 0:
            return self
        # Reverse so np.unique's first occurrence is the last one given.
        rev = self.time[::-1]
        _, first = np.unique(rev, return_index=True)
        keep = len(self) - 1 - first
        return self[keep]

    def equals(self, other: Candles) -> bool:
        return len(self) == len(other) and all(
            np.array_equal(getattr(self, n), getattr(other, n)) for n in COLUMNS
        )

    def __repr__(self) -> str:
        if len(self) == 0:
            return "Candles(empty)"
        return f"Candles({len(self)} from {int(self.time[0])} to {int(self.time[-1])})"


def concat(parts: Iterable[Candles]) -> Candles:
    """Concatenate candle sets in the order given."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return Candles.empty()
    if len(parts) == 1:
        return parts[0]
    return Candles(*(np.concatenate([getattr(p, name) for p in parts]) for name in COLUMNS))


def align(legs: Sequence[Candles]) -> list[Candles]:
    """Restrict several markets' candles to the open times all of them have."""
    if len(legs) <= 1:
        return list(legs)
    common = legs[0].time
    for leg in legs[1:]:
        common = np.intersect1d(common, leg.time, assume_unique=True)
    return [leg[np.isin(leg.time, common, assume_unique=True)] for leg in legs]


def resample(candles: Candles, seconds: int) -> Candles:
    """OHLCV candles of `seconds` each, opening on multiples of `seconds` (UTC): the first
    open, the highest high, the lowest low, the last close and the summed volume of the
    candles inside; buckets with no candle are left out. Assumes sorted times."""
    if len(candles) == 0 or seconds <= 0:
        return candles
    buckets = candles.time - candles.time % seconds
    starts = np.flatnonzero(np.concatenate(([True], buckets[1:] != buckets[:-1])))
    ends = np.concatenate((starts[1:], [len(candles)])) - 1
    return Candles(
        buckets[starts],
        candles.open[starts],
        np.maximum.reduceat(candles.high, starts),
        np.minimum.reduceat(candles.low, starts),
        candles.close[ends],
        np.add.reduceat(candles.volume, starts),
    )
