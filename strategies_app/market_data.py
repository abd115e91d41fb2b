"""Market data as the worker and the dashboard read it: exchanges, candles, the archive.

Below sessions_app: the runner (sessions_app.execution), the commands and the detail view's
charts all come here, so the archive's layout and the exchange settings live in one place.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.cache import cache

from bots.archive import DAY, latest_time, market_dir, partition_path
from bots.archive import load as archive_load
from bots.candles import Candles
from bots.data import GENERATED, data_fingerprint, load_candles
from bots.exchanges.base import Exchange
from bots.exchanges.registry import get_exchange
from bots.exchanges.sim import SimExchange

log = logging.getLogger(__name__)

# A chart needs no more closes than this; a page must never wait on a long read.
CHART_POINTS = 600
FINGERPRINT_CACHE_SECONDS = 7 * 86_400  # a range's fingerprint, for the files' state it was computed on
CHART_TIMEFRAMES = (("1m", 60), ("5m", 300), ("15m", 900), ("1h", 3600), ("4h", 14_400), ("1d", 86_400))


def exchange_get(name: str) -> Exchange:
    """The engine's exchange, pointed at the URL the settings give (tests: a local server)."""
    if name == "sim":
        return get_exchange("sim")
    return get_exchange(name, base_url=settings.EXCHANGE_URLS.get(name) or None)


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


def chart_closes(
    *, exchange: str, symbol: str, start: int | None, end: int | None, timeframe: str = "1m"
) -> list[tuple[int, float]]:
    """At most ~CHART_POINTS closes of [start, end): computed by `sim`, else read from the
    archive, never from the network (a page must not wait on an exchange). [] when unknown."""
    if start is None or end is None or end <= start:
        return []
    try:
        if exchange != "sim":
            candles = archive_load(str(settings.DATA_ROOT), exchange, symbol, timeframe, start, end)
            step = max(1, math.ceil(len(candles.time) / CHART_POINTS))
            return [
                (int(t), float(c)) for t, c in zip(candles.time[::step], candles.close[::step], strict=False)
            ]
        span = end - start
        chart_timeframe, seconds = next(
            (tf for tf in CHART_TIMEFRAMES if span / tf[1] <= CHART_POINTS), CHART_TIMEFRAMES[-1]
        )
        candles = SimExchange().fetch_candles(symbol, chart_timeframe, start - start % seconds, end)
        return [(int(t), float(c)) for t, c in zip(candles.time, candles.close, strict=False)]
    except Exception:  # no archive for this market, or the engine refuses the names or range
        log.debug("No candles for the %s:%s chart", exchange, symbol, exc_info=True)
        return []
