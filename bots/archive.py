"""The candle archive: `<root>/archive/<exchange>/<symbol>/<YYYY-MM-DD>/<timeframe>.npy`.

One file per UTC day holds a structured numpy array (time int64, open..volume float64) sorted
by time, one row per open time. Writes merge with what is there, deduplicate by time (the
newest value wins), go to a temporary file and `os.replace` it into place under a per-day
lock: a crash leaves the old file or the new one, never a torn one, and a restarted scraper
re-writing the same candles changes nothing.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import functools
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bots.candles import TIMEFRAMES, Candles, concat, resample, timeframe_seconds
from bots.markets import check_symbol

DAY = 86400
EXT = "npy"
DTYPE = np.dtype(
    [("time", "<i8"), ("open", "<f8"), ("high", "<f8"), ("low", "<f8"), ("close", "<f8"), ("volume", "<f8")]
)
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _check_name(kind: str, value: str) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value) or ".." in value:
        raise ValueError(f"Invalid {kind} {value!r}.")
    return value


def market_dir(root: str | os.PathLike, exchange: str, symbol: str) -> Path:
    """The directory of one market's archive (names are validated: no path tricks)."""
    return Path(root) / "archive" / _check_name("exchange", exchange) / check_symbol(symbol)


def day_name(day_index: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(day_index))).isoformat()


def _day_index(name: str) -> int:
    return (dt.date.fromisoformat(name) - dt.date(1970, 1, 1)).days


def partition_path(root, exchange: str, symbol: str, timeframe: str, day_index: int) -> Path:
    timeframe_seconds(timeframe)
    return market_dir(root, exchange, symbol) / day_name(day_index) / f"{timeframe}.{EXT}"


def _to_records(candles: Candles) -> np.ndarray:
    out = np.empty(len(candles), dtype=DTYPE)
    for name in DTYPE.names:
        out[name] = getattr(candles, name)
    return out


def _from_records(records: np.ndarray) -> Candles:
    return Candles(*(records[name] for name in DTYPE.names))


def _read(path: Path) -> np.ndarray | None:
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        return None
    if data.dtype != DTYPE:
        raise ValueError(f"{path} is not a candle partition.")
    return data


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _atomic_save(path: Path, records: np.ndarray) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.save(handle, records, allow_pickle=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write(root, exchange: str, symbol: str, timeframe: str, candles: Candles) -> int:
    """Merge `candles` into the archive; return how many open times were new."""
    tf = timeframe_seconds(timeframe)
    if len(candles) == 0:
        return 0
    candles = candles.sorted_unique()
    if np.any(candles.time % tf):
        raise ValueError(f"Candle open times are not on the {timeframe} grid.")
    days = candles.time // DAY
    bounds = np.flatnonzero(np.diff(days)) + 1
    added = 0
    for part in np.split(np.arange(len(candles)), bounds):
        day = int(days[part[0]])
        new = _to_records(candles[part[0] : part[-1] + 1])
        path = partition_path(root, exchange, symbol, timeframe, day)
        with _locked(path.parent):
            old = _read(path)
            if old is None:
                merged, count = new, len(new)
            else:
                both = np.concatenate([new, old])  # new first: np.unique keeps the first seen
                _, first = np.unique(both["time"], return_index=True)
                merged = both[first]
                count = len(merged) - len(old)
                if count == 0 and np.array_equal(merged, old):
                    continue  # nothing changed: leave the file alone
            _atomic_save(path, merged)
            added += count
    return added


def _days(root, exchange: str, symbol: str, timeframe: str) -> list[int]:
    base = market_dir(root, exchange, symbol)
    if not base.is_dir():
        return []
    name = f"{timeframe}.{EXT}"
    return sorted(
        _day_index(d.name) for d in base.iterdir() if _DAY_RE.match(d.name) and (d / name).is_file()
    )


def load(
    root, exchange: str, symbol: str, timeframe: str, start: int | None = None, end: int | None = None
) -> Candles:
    """Archived candles with open time in [start, end) (None = unbounded), sorted."""
    timeframe_seconds(timeframe)
    days = _days(root, exchange, symbol, timeframe)
    if start is not None:
        days = [d for d in days if d >= start // DAY]
    if end is not None:
        days = [d for d in days if d * DAY < end]
    parts = []
    for day in days:
        data = _read(partition_path(root, exchange, symbol, timeframe, day))
        if data is not None and len(data):
            parts.append(data)
    if not parts:
        return Candles.empty()
    candles = _from_records(np.concatenate(parts))
    return candles.between(start, end)


# Days kept aggregated: a year at a few candles a day is ~100 KB; finer aggregates are for short
# windows (2,000 candles of 10 minutes are two weeks), read each time instead of kept.
CACHED_DAYS, CACHED_MIN_SECONDS = 4096, 900


@functools.lru_cache(maxsize=CACHED_DAYS)
def _day_resampled(path: str, mtime_ns: int, size: int, seconds: int) -> Candles:
    """One whole day's file aggregated into `seconds` candles; kept while the file's size and
    mtime stay the same (a scraper writing today's file makes it read again, no other day)."""
    data = _read(Path(path))
    return resample(_from_records(data), seconds) if data is not None and len(data) else Candles.empty()


def load_resampled(
    root, exchange: str, symbol: str, timeframe: str, start: int, end: int, seconds: int
) -> Candles:
    """`resample(load(...), seconds)`, with each whole day of [start, end) aggregated once per
    process: a chart of a year of 1m candles reads 365 small aggregates, not 525,600 rows.

    Candles of `seconds` that divide a day never straddle two day files; longer ones (whole
    days) are made from the days' candles."""
    timeframe_seconds(timeframe)
    per_day = seconds if DAY % seconds == 0 else DAY
    # Plain strings and os calls: pathlib's objects cost more than the reads for 365 days.
    base = os.fspath(market_dir(root, exchange, symbol))
    name = f"{timeframe}.{EXT}"
    try:
        folders = sorted(entry for entry in os.listdir(base) if _DAY_RE.match(entry))
    except FileNotFoundError:
        return Candles.empty()
    parts = []
    for folder in folders:
        day = _day_index(folder)
        lo, hi = day * DAY, (day + 1) * DAY
        if hi <= start or lo >= end:
            continue
        path = os.path.join(base, folder, name)
        if start <= lo and hi <= end and per_day >= CACHED_MIN_SECONDS:
            try:
                stat = os.stat(path)
            except FileNotFoundError:
                continue
            parts.append(_day_resampled(path, stat.st_mtime_ns, stat.st_size, per_day))
        else:  # the range's first or last day, in part, or a fine aggregate
            data = _read(Path(path))
            if data is not None and len(data):
                parts.append(resample(_from_records(data).between(start, end), per_day))
    candles = concat(parts)
    return candles if per_day == seconds else resample(candles, seconds)


@dataclass
class DataCheck:
    """Coverage of a range: expected and present candles, missing ones and the first gaps."""

    expected: int
    present: int
    missing: int
    gaps: list[tuple[int, int]] = field(default_factory=list)  # [start, end) of missing opens

    @property
    def ok(self) -> bool:
        return self.missing == 0

    def summary(self) -> str:
        if self.missing == 0:
            return f"All {self.expected:,} candles present."
        first = ", ".join(
            f"{dt.datetime.fromtimestamp(a, dt.UTC):%Y-%m-%d %H:%M:%S}"
            f"–{dt.datetime.fromtimestamp(b, dt.UTC):%Y-%m-%d %H:%M:%S}"
            for a, b in self.gaps
        )
        return f"{self.missing:,} of {self.expected:,} candles missing; first gaps (UTC): {first}."


def check_times(times: np.ndarray, timeframe: str, start: int, end: int, max_gaps: int = 5) -> DataCheck:
    """Which grid open times of [start, end) are absent from `times` (sorted)."""
    tf = timeframe_seconds(timeframe)
    first = -(-int(start) // tf) * tf
    expected = max(0, (int(end) - first + tf - 1) // tf)
    times = np.asarray(times, dtype=np.int64)
    times = times[(times >= first) & (times < end) & (times % tf == 0)]
    if len(times) > 1 and not (np.diff(times) > 0).all():  # candles are sorted and unique: skip the sort
        times = np.unique(times)
    present = len(times)
    gaps: list[tuple[int, int]] = []
    if expected and present < expected:
        # Boundaries: a virtual candle before the range and one at its end.
        marks = np.concatenate([[first - tf], times, [first + expected * tf]])
        jumps = np.flatnonzero(np.diff(marks) > tf)[:max_gaps]
        gaps = [(int(marks[j] + tf), int(marks[j + 1])) for j in jumps]
    return DataCheck(expected=expected, present=present, missing=expected - present, gaps=gaps)


def check(
    root, exchange: str, symbol: str, timeframe: str, start: int, end: int, max_gaps: int = 5
) -> DataCheck:
    """Missing candles of [start, end) in the archive: count and the first `max_gaps` gaps."""
    return check_times(
        load(root, exchange, symbol, timeframe, start, end).time, timeframe, start, end, max_gaps
    )


def latest_time(root, exchange: str, symbol: str, timeframe: str) -> int | None:
    """Open time of the newest archived candle (None when there is none)."""
    for day in reversed(_days(root, exchange, symbol, timeframe)):
        data = _read(partition_path(root, exchange, symbol, timeframe, day))
        if data is not None and len(data):
            return int(data["time"][-1])
    return None


def earliest_time(root, exchange: str, symbol: str, timeframe: str) -> int | None:
    """Open time of the oldest archived candle (None when there is none)."""
    for day in _days(root, exchange, symbol, timeframe):
        data = _read(partition_path(root, exchange, symbol, timeframe, day))
        if data is not None and len(data):
            return int(data["time"][0])
    return None


def inventory(root) -> list[dict]:
    """What the archive holds: one entry per (exchange, symbol, timeframe) with first/last."""
    base = Path(root) / "archive"
    out = []
    if not base.is_dir():
        return out
    for ex_dir in sorted(p for p in base.iterdir() if p.is_dir() and _NAME_RE.match(p.name)):
        for sym_dir in sorted(p for p in ex_dir.iterdir() if p.is_dir() and _NAME_RE.match(p.name)):
            found = {f.stem for d in sym_dir.iterdir() if _DAY_RE.match(d.name) for f in d.glob(f"*.{EXT}")}
            for timeframe in [t for t in TIMEFRAMES if t in found]:
                out.append(
                    {
                        "exchange": ex_dir.name,
                        "symbol": sym_dir.name,
                        "timeframe": timeframe,
                        "first": earliest_time(root, ex_dir.name, sym_dir.name, timeframe),
                        "last": latest_time(root, ex_dir.name, sym_dir.name, timeframe),
                    }
                )
    return out


def day_counts(root, exchange: str, symbol: str, timeframe: str) -> list[tuple[int, int]]:
    """(day index, candles stored) for every archived day of one market, oldest first.

    Only each file's header is read (a memory map): the calendar of a years-long archive
    costs one small read per day, not the candles themselves."""
    out = []
    for day in _days(root, exchange, symbol, timeframe):
        path = partition_path(root, exchange, symbol, timeframe, day)
        try:
            count = len(np.load(path, mmap_mode="r", allow_pickle=False))
        except (OSError, ValueError):  # a torn or foreign file counts as nothing stored
            count = 0
        out.append((day, count))
    return out


# --- funding rates ------------------------------------------------------------------------------
# A perpetual market's downloaded funding rates live beside its day folders, in one file:
# `<root>/archive/<exchange>/<symbol>/funding.npy` (time int64 Unix seconds, rate float64), sorted
# by time. Three rates a day are ~50 KB for five years, so the file is rewritten whole, merged
# and replaced as the day files are (idempotent, never torn).
FUNDING_FILE = f"funding.{EXT}"
FUNDING_DTYPE = np.dtype([("time", "<i8"), ("rate", "<f8")])


def funding_path(root, exchange: str, symbol: str) -> Path:
    return market_dir(root, exchange, symbol) / FUNDING_FILE


def _read_funding(path: Path) -> np.ndarray | None:
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        return None
    if data.dtype != FUNDING_DTYPE:
        raise ValueError(f"{path} is not a funding file.")
    return data


def write_funding(root, exchange: str, symbol: str, times: np.ndarray, rates: np.ndarray) -> int:
    """Merge funding rates into the market's file (the newest value of a time wins); return how
    many times were new. Nothing new and nothing changed leaves the file alone."""
    if len(times) == 0:
        return 0
    new = np.empty(len(times), dtype=FUNDING_DTYPE)
    new["time"], new["rate"] = times, rates
    path = funding_path(root, exchange, symbol)
    with _locked(path.parent):
        old = _read_funding(path)
        both = new[::-1] if old is None else np.concatenate([new[::-1], old])
        _, first = np.unique(both["time"], return_index=True)  # the first seen: the newest
        merged = both[first]
        count = len(merged) - (0 if old is None else len(old))
        if old is not None and count == 0 and np.array_equal(merged, old):
            return 0
        _atomic_save(path, merged)
    return count


def load_funding(
    root, exchange: str, symbol: str, start: int | None = None, end: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(times, rates) of the archived funding rates with time in [start, end), sorted."""
    data = _read_funding(funding_path(root, exchange, symbol))
    if data is None:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    keep = np.ones(len(data), dtype=bool)
    if start is not None:
        keep &= data["time"] >= start
    if end is not None:
        keep &= data["time"] < end
    return data["time"][keep].copy(), data["rate"][keep].copy()


def funding_latest_time(root, exchange: str, symbol: str) -> int | None:
    """Time of the newest archived funding rate (None when there is none)."""
    data = _read_funding(funding_path(root, exchange, symbol))
    return int(data["time"][-1]) if data is not None and len(data) else None
