"""The scraper runner: the live feed recorded into the archive, in batches."""

from __future__ import annotations

import time as _time
from collections.abc import Iterable
from typing import Any

from bots import archive
from bots.candles import Candles, concat, timeframe_seconds
from bots.runners.config import RunConfig
from bots.runners.sink import Result, Sink


class _Scraper:
    """One scraper's state: the candles not yet archived and the counts so far."""

    def __init__(self, config: RunConfig, sink: Sink, archive_root: str):
        self.config, self.sink, self.archive_root = config, sink, archive_root
        self.symbols = [m.symbol for m in config.markets]
        self.buffers: list[list[Candles]] = [[] for _ in self.symbols]
        self.stored = 0
        self.received = 0
        self.last_time: int | None = None

    def metrics(self) -> dict[str, Any]:
        return {
            "data_points": self.received,
            "stored": self.stored,
            "last_time": self.last_time,
            "markets": self.symbols,
            "timeframe": self.config.timeframe,
        }

    def take(self, item: Any) -> None:
        """Buffer the item's candles that fall in the range."""
        config = self.config
        parts = [item] if isinstance(item, Candles) else list(item)
        for k, candles in enumerate(parts):
            candles = candles.between(config.range_start, config.range_end)
            if len(candles):
                self.buffers[k].append(candles)
                self.received += len(candles)
                self.last_time = int(candles.time[-1])

    def flush(self) -> None:
        """Write the buffers to the archive (which skips candles it already holds)."""
        config, wrote = self.config, False
        for k, symbol in enumerate(self.symbols):
            if not self.buffers[k]:
                continue
            batch = concat(self.buffers[k])
            self.buffers[k] = []
            added = archive.write(self.archive_root, config.exchange, symbol, config.timeframe, batch)
            self.stored += added
            wrote = True
            self.sink.on_log(
                f"Archived {added} new {config.timeframe} candles of {symbol} (up to {int(batch.time[-1])})."
            )
        if wrote:
            self.sink.on_metrics(self.metrics())


def run_scraper(
    config: RunConfig, feed: Iterable[Any], sink: Sink, archive_root: str, *, report_every: float
) -> Result:
    """Record the live feed into the archive every `archive_interval` seconds until stopped."""
    interval = float(config.params.get("archive_interval", 60))
    tf = timeframe_seconds(config.timeframe)
    scraper = _Scraper(config, sink, archive_root)
    clock = _time.monotonic
    last_flush = last_report = clock()
    stopped = False
    sink.on_log(
        f"Scraping {config.exchange}:{config.market} {config.timeframe} into the archive "
        f"every {interval:g} s."
    )
    sink.on_progress(0, None)
    for item in feed:
        if item is not None:
            scraper.take(item)
            last_time = scraper.last_time
            if config.range_end is not None and last_time is not None and last_time + tf >= config.range_end:
                break
        now = clock()
        if now - last_flush >= interval:
            scraper.flush()
            last_flush = now
        if now - last_report >= report_every or item is None:
            last_report = now
            sink.on_progress(scraper.received, None)
            if sink.should_stop():
                stopped = True
                break
    scraper.flush()
    metrics = scraper.metrics()
    sink.on_progress(scraper.received, None)
    sink.on_metrics(metrics)
    sink.on_log(
        f"{'Stopped' if stopped else 'Finished'}: {scraper.received:,} candles received, "
        f"{scraper.stored:,} new in the archive."
    )
    return Result(
        trades=[],
        metrics=metrics,
        equity=[],
        stopped=stopped,
        candles=scraper.received,
        currency=config.markets[0].settle,
        last_time=scraper.last_time,
    )
