"""Where a run's candles come from: a generated exchange (sim) computes them, others read the archive.

Also the data check before a backtest and a resumable history download into the archive.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from bots import archive
from bots.candles import PRICE_COLUMNS, Candles, timeframe_seconds
from bots.exchanges.base import Capability, Exchange
from bots.exchanges.registry import exchange_can, exchange_class, get_exchange


def load_candles(
    exchange: str,
    symbol: str,
    timeframe: str,
    start: int | None,
    end: int | None,
    archive_root: str | None = None,
) -> Candles:
    """Candles of [start, end): computed by a generated exchange (unless archived), else from
    the archive."""
    if exchange_can(exchange, Capability.GENERATED):
        if archive_root is not None:
            stored = archive.load(archive_root, exchange, symbol, timeframe, start, end)
            if len(stored):
                return stored
        return get_exchange(exchange).fetch_candles(symbol, timeframe, start, end)
    if archive_root is None:
        raise ValueError(f"Candles of {exchange} come from the archive: no archive root given.")
    return archive.load(archive_root, exchange, symbol, timeframe, start, end)


def data_fingerprint(
    exchange: str, timeframe: str, start: int | None, end: int | None, candles: dict[str, Candles]
) -> str:
    """A hash of the candles a run reads (first 16 hex of a sha256). For a generated exchange
    its generator version, markets, timeframe and range say it all (the candles are a pure
    function of them); for archive data, the loaded arrays themselves, so a re-import or a
    filled gap changes it."""
    digest = hashlib.sha256()
    if exchange_can(exchange, Capability.GENERATED):
        version = exchange_class(exchange).generator_version
        key = [exchange, version, sorted(candles), timeframe, start, end]
        digest.update(json.dumps(key).encode())
        return digest.hexdigest()[:16]
    digest.update(json.dumps([exchange, timeframe, start, end]).encode())
    for symbol in sorted(candles):
        legs = candles[symbol]
        digest.update(symbol.encode())
        for column in ("time", *PRICE_COLUMNS):
            digest.update(getattr(legs, column).tobytes())
    return digest.hexdigest()[:16]


def check_data(
    exchange: str,
    symbols: list[str],
    timeframe: str,
    start: int,
    end: int,
    archive_root: str | None = None,
    max_gaps: int = 5,
) -> dict[str, archive.DataCheck]:
    """Per symbol: expected/present/missing candles of [start, end) and the first gaps."""
    return {
        symbol: archive.check_times(
            load_candles(exchange, symbol, timeframe, start, end, archive_root).time,
            timeframe,
            start,
            end,
            max_gaps,
        )
        for symbol in symbols
    }


def download(
    source: Exchange,
    symbol: str,
    timeframe: str,
    start: int,
    end: int,
    archive_root: str,
    *,
    exchange_name: str | None = None,
    window: int = 10_000,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> int:
    """Fetch [start, end) from `source` into the archive, `window` candles at a time.

    Resumable: it starts after the newest archived candle when that lies inside the range, and
    writes are idempotent, so an interrupted download simply runs again. Returns candles added.
    """
    tf = timeframe_seconds(timeframe)
    name = exchange_name or source.name
    begin = start - start % tf
    latest = archive.latest_time(archive_root, name, symbol, timeframe)
    if latest is not None and begin <= latest < end:
        begin = latest + tf
    added = 0
    total = max(0, (end - start) // tf)
    cursor = begin
    while cursor < end:
        if should_stop and should_stop():
            break
        upto = min(end, cursor + window * tf)
        candles = source.fetch_candles(symbol, timeframe, cursor, upto)
        added += archive.write(archive_root, name, symbol, timeframe, candles)
        cursor = upto
        if progress:
            progress(min(total, (cursor - start) // tf), total)
    return added
