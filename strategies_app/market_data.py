"""Market data as the worker and the dashboard read it: exchanges, candles, the archive.

Below sessions_app: the runner (sessions_app.execution), the commands and the detail view's
charts all come here, so the archive's layout and the exchange settings live in one place.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.cache import cache

from bots.archive import (
    CACHED_MIN_SECONDS,
    DAY,
    day_counts,
    earliest_time,
    latest_time,
    market_dir,
    partition_path,
)
from bots.archive import load_resampled as archive_resampled
from bots.candles import TIMEFRAMES, Candles, resample, timeframe_seconds
from bots.data import GENERATED, data_fingerprint, load_candles
from bots.exchanges.base import Exchange
from bots.exchanges.registry import get_exchange
from bots.exchanges.sim import SimExchange
from bots.markets import Listing

log = logging.getLogger(__name__)

# The candle sizes a chart aggregates to (seconds): the first one that fits the range into the
# points asked for, so a zoom or a live poll with the same size lines up with what is drawn.
CHART_INTERVALS = (
    *(1, 5, 10, 15, 30),
    *(60, 120, 300, 600, 900, 1800),
    *(3600, 7200, 14_400, 21_600, 43_200),
    *(86_400, 172_800, 604_800, 2_592_000),
)
FINGERPRINT_CACHE_SECONDS = 7 * 86_400  # a range's fingerprint, for the files' state it was computed on


def exchange_get(name: str) -> Exchange:
    """The engine's exchange, pointed at the URL the settings give (tests: a local server)."""
    if name == "sim":
        return get_exchange("sim")
    return get_exchange(name, base_url=settings.EXCHANGE_URLS.get(name) or None)


def exchange_markets(name: str) -> list[Listing]:
    """The exchange's markets from its own metadata (ccxt load_markets, BitMEX instruments)."""
    return exchange_get(name).fetch_markets()


def candles_load(
    *, exchange: str, symbols: list[str], timeframe: str, start: int, end: int
) -> dict[str, Candles]:
    """The range's candles per symbol: generated for sim, else from the archive (what the
    scrapers, `download_candles` and `import_candles` recorded)."""
    root = str(settings.DATA_ROOT)
    return {symbol: load_candles(exchange, symbol, timeframe, start, end, root) for symbol in symbols}


@dataclass(frozen=True)
class FingerprintProbe:
    """What is known of a range's data fingerprint before its candles are loaded: the
    fingerprint itself when it follows without loading, and the archive files' state it was
    last computed for (`stat_key`)."""

    fingerprint: str | None
    stat_key: str | None = None


def candles_fingerprint_probe(
    *, exchange: str, symbols: list[str], timeframe: str, start: int | None, end: int | None
) -> FingerprintProbe:
    """The fingerprint `candles_fingerprint` would give, without loading the candles, when it
    is known: a generated exchange with nothing archived for these markets (its generator
    version, markets, timeframe and range say it all), or archive files whose every partition
    in the range (size, mtime, inode) is as it was when the fingerprint was last computed from
    their arrays (remembered in the cache by `candles_fingerprint`). A re-import, a filled gap
    or a deleted day changes the files, so the fingerprint is computed again from the data."""
    root = Path(settings.DATA_ROOT)
    try:
        archived = [symbol for symbol in symbols if market_dir(root, exchange, symbol).is_dir()]
    except ValueError:  # a name the archive refuses: let the load say so
        return FingerprintProbe(None)
    if exchange in GENERATED and not archived:
        # data_fingerprint reads only the markets' names of generated candles.
        return FingerprintProbe(data_fingerprint(exchange, timeframe, start, end, dict.fromkeys(symbols)))
    if start is None or end is None or end <= start:
        return FingerprintProbe(None)
    digest = hashlib.sha256(json.dumps([exchange, sorted(symbols), timeframe, start, end]).encode())
    for symbol in sorted(symbols):
        for day in range(start // DAY, (end - 1) // DAY + 1):
            try:
                stat = partition_path(root, exchange, symbol, timeframe, day).stat()
            except FileNotFoundError:
                digest.update(f"{symbol}/{day}:-;".encode())
            else:
                digest.update(f"{symbol}/{day}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino};".encode())
    stat_key = f"candles:fingerprint:{digest.hexdigest()}"
    try:
        known = cache.get(stat_key)
    except Exception:  # the cache is a shortcut: without it the candles are loaded and hashed
        log.warning("Cache unreachable for the candles fingerprint", exc_info=True)
        known = None
    return FingerprintProbe(known, stat_key)


def candles_fingerprint(
    *,
    exchange: str,
    timeframe: str,
    start: int | None,
    end: int | None,
    candles: dict[str, Candles],
    probe: FingerprintProbe | None = None,
) -> str:
    """The hash of what `candles_load` gave (bots.data.data_fingerprint): runs with the same
    config hash and fingerprint compute the same results. `probe`: taken before the load, so
    the files' state it saw is remembered with this fingerprint for the next probe."""
    fingerprint = data_fingerprint(exchange, timeframe, start, end, candles)
    if probe is not None and probe.stat_key is not None:
        try:
            cache.set(probe.stat_key, fingerprint, timeout=FINGERPRINT_CACHE_SECONDS)
        except Exception:
            log.warning("Cache unreachable for the candles fingerprint", exc_info=True)
    return fingerprint


def archive_day_paths(*, exchange: str, symbols: list[str], day: date) -> list[str]:
    """Where a scraper of these symbols writes the candles of `day`."""
    root = Path(settings.DATA_ROOT) / "archive" / exchange
    return [f"{root / symbol / day.isoformat()}/" for symbol in symbols]


def archive_last_time(*, exchange: str, symbol: str, timeframe: str = "1m") -> int | None:
    """The archive's newest candle time; None when it has none (or cannot be read)."""
    try:
        value = latest_time(str(settings.DATA_ROOT), exchange, symbol, timeframe)
    except Exception:  # no archive yet for this market, or unreadable files: nothing to show
        log.debug("No archive time for %s:%s", exchange, symbol, exc_info=True)
        return None
    return int(value) if value is not None else None


def _bucket_count(start: int, end: int, seconds: int) -> int:
    return (end - 1) // seconds - start // seconds + 1


# The candles a chart may generate or read for one answer, per candle it shows (SPEC §25): the
# coarsest source that divides a chart candle is at most 30 of them (a 30-day candle of 1d), so
# 32 holds for every interval of CHART_INTERVALS; beyond it the interval grows until it holds.
CHART_READ_FACTOR = 32


def chart_interval(
    *,
    start: int,
    end: int,
    timeframe: str,
    max_points: int,
    at_least: int = 0,
    exchange: str = "sim",
    archived: bool = False,
) -> int:
    """Seconds per chart candle for [start, end): the smallest of CHART_INTERVALS (then whole
    multiples of its largest) that the timeframe divides, at least `at_least`, that gives at
    most `max_points` candles and whose source reads at most CHART_READ_FACTOR times that
    (SPEC §25: the work of an answer is bounded by the server, whatever `interval` says; an
    `interval` only 1s divides would otherwise make a 1s session generate the whole window)."""
    base = timeframe_seconds(timeframe)
    sizes = [s for s in CHART_INTERVALS if s >= base and s % base == 0] or [base]
    top = sizes[-1]
    limit = CHART_READ_FACTOR * max_points

    def fits(seconds: int) -> bool:
        if _bucket_count(start, end, seconds) > max_points:
            return False
        source = _read_seconds(exchange, archived, timeframe, seconds)
        # Nothing coarser than a day is read or generated: a day's candles are the floor.
        return source >= DAY or _bucket_count(start, end, source) <= limit

    for seconds in sizes:
        if seconds >= at_least and fits(seconds):
            return seconds
    seconds = max(top, -(-at_least // top) * top)  # at_least rounded up to a multiple of the top
    while not fits(seconds):
        seconds *= 2
    return seconds


def _read_seconds(exchange: str, archived: bool, timeframe: str, interval: int) -> int:
    """Seconds per candle of what a chart of `interval` reads: the source `sim` computes, the
    archive's day aggregates (kept per process, SPEC §17), else the timeframe's own candles."""
    if exchange == "sim" and not archived:
        return timeframe_seconds(_source_timeframe(exchange, timeframe, interval))
    if interval >= CACHED_MIN_SECONDS:
        # Whole days from their aggregates (of the interval, or of the day when it divides none);
        # only the window's first and last day are read in full.
        return min(interval, DAY)
    return timeframe_seconds(timeframe)


def _source_timeframe(exchange: str, timeframe: str, interval: int) -> str:
    """The timeframe to read: the session's own, except that `sim` computes any timeframe
    directly, so it is asked for the coarsest one that divides the chart's candle (a year of
    1m candles is never generated to draw 2,000 of them)."""
    if exchange != "sim":
        return timeframe
    base = timeframe_seconds(timeframe)
    fitting = [name for name, s in TIMEFRAMES.items() if s >= base and interval % s == 0]
    return max(fitting, key=TIMEFRAMES.__getitem__) if fitting else timeframe


def chart_candles(
    *,
    exchange: str,
    symbol: str,
    timeframe: str,
    start: int,
    end: int,
    interval: int,
    archived: bool = False,
) -> Candles:
    """The candles of [start, end) aggregated by OHLC into `interval`-second candles:
    computed by `sim` (unless `archived`: what a scraper recorded), else read from the
    archive, never from the network (a page must not wait on an exchange). Empty when there
    is nothing to show."""
    if end <= start:
        return Candles.empty()
    computed = exchange == "sim" and not archived
    source = _source_timeframe(exchange, timeframe, interval) if computed else timeframe
    try:
        if computed:
            seconds = timeframe_seconds(source)
            candles = SimExchange().fetch_candles(symbol, source, start - start % seconds, end)
        else:
            root = str(settings.DATA_ROOT)
            return archive_resampled(root, exchange, symbol, source, start, end, interval)
    except Exception:  # no archive for this market, or the engine refuses the names or range
        log.debug("No candles for the %s:%s chart", exchange, symbol, exc_info=True)
        return Candles.empty()
    if interval == timeframe_seconds(source):
        return candles
    return resample(candles, interval)


def archive_calendar(*, exchange: str, symbol: str, timeframe: str) -> list[tuple[date, int]]:
    """(day, candles stored) for each UTC day the archive of one market holds, oldest first."""
    try:
        counts = day_counts(str(settings.DATA_ROOT), exchange, symbol, timeframe)
    except Exception:  # a name the archive refuses: nothing archived under it
        log.debug("No archive calendar for %s:%s", exchange, symbol, exc_info=True)
        return []
    epoch = date(1970, 1, 1).toordinal()
    return [(date.fromordinal(epoch + day), count) for day, count in counts]


def archive_span(*, exchange: str, symbol: str, timeframe: str) -> tuple[int, int] | None:
    """[first candle open, last candle close) of one market's archive; None when empty."""
    try:
        root = str(settings.DATA_ROOT)
        first = earliest_time(root, exchange, symbol, timeframe)
        last = latest_time(root, exchange, symbol, timeframe)
    except Exception:  # a name the archive refuses, or unreadable files: nothing to show
        log.debug("No archive span for %s:%s", exchange, symbol, exc_info=True)
        return None
    if first is None or last is None:
        return None
    return int(first), int(last) + timeframe_seconds(timeframe)
