"""Runners: a backtest over a range, a live (paper) session over a live feed, a scraper.

The caller (the Celery task on the Django side) hands each runner a *sink*; the runner reports
trades, equity, logs, progress and metrics to it and asks it whether to stop. Both trading
runners share the strategy hooks and the Account, so a live session and a backtest of the
same candles make the same trades.

This module is the engine's public face for runs; the parts live in `bots.runners`.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Iterable
from typing import Any

from bots import fast
from bots.exchanges.sim import SimExchange
from bots.runners import backtest, grid, live, scraper
from bots.runners.backtest import NoDataError, load_legs
from bots.runners.config import RunConfig, canonical_hash, make_strategy
from bots.runners.sink import ListSink, NullSink, Result, Sink

__all__ = [
    "CHUNK_SECONDS",
    "COMPILED_RULES",
    "FAST_CHUNK",
    "LIVE_METRICS_EVERY",
    "REPORT_EVERY",
    "SLOW_CHUNK",
    "STOP_CHECK_EVERY",
    "ListSink",
    "NoDataError",
    "NullSink",
    "Result",
    "RunConfig",
    "Sink",
    "canonical_hash",
    "load_legs",
    "make_strategy",
    "run_backtest",
    "run_grid",
    "run_live",
    "run_scraper",
    "warm",
]

# The runners' pacing. Read at each call, so a caller (or a test) may set them here.
# Backtests are processed in chunks so the sink hears from the runner (progress, stop) often.
FAST_CHUNK = 131_072
SLOW_CHUNK = 65_536
CHUNK_SECONDS = 0.25  # a per-candle chunk ends after this long
# Rules of strategies that have them run compiled (bots.fast); False: the Python reference.
COMPILED_RULES = True
REPORT_EVERY = 0.5  # seconds between progress reports (live and scraper)
STOP_CHECK_EVERY = 0.25  # seconds between should_stop() calls of the live runners
LIVE_METRICS_EVERY = 2.0


def warm() -> None:
    """Load (or compile) the engine's compiled code: the rules path and the sim generator.

    Workers call it when they start, so their first backtest does not pay for it."""
    fast.warm()
    SimExchange().candles("XBTUSD", "1m", 0, 600)


def run_backtest(
    config: RunConfig,
    feed: Any,
    sink: Sink,
    clock: Callable[[], float] = _time.monotonic,
    *,
    funding: Any = None,
) -> Result:
    """Backtest `config` over the feed's candles in [range_start, range_end), after the
    strategy's warm-up (`startup_candles()` candles before range_start, when the feed has them).

    `feed` is what `load_legs` takes; `clock` times the per-candle chunks (report and check
    stop about every second of it). `funding`: the perpetual markets' rates, an object with
    `fetch_funding(symbol, start, end)` or a mapping symbol -> FundingRates; None: the feed's
    own, or the sim exchange's for `sim` (bots.runners.backtest.funding_array).
    """
    return backtest.run_backtest(
        config,
        feed,
        sink,
        clock,
        fast_chunk=FAST_CHUNK,
        slow_chunk=SLOW_CHUNK,
        chunk_seconds=CHUNK_SECONDS,
        compiled_rules=COMPILED_RULES,
        funding=funding,
    )


def run_grid(
    configs: list[RunConfig],
    feed: Any,
    sinks: list[Sink] | None = None,
    clock: Callable[[], float] = _time.monotonic,
    *,
    batch: int = 8,
    keep_trades: bool = True,
    funding: Any = None,
) -> list[Result]:
    """Backtest many configs of one market, timeframe and range (a sweep's chunk of runs):
    candles loaded once, each distinct indicator computed once, many configs per compiled
    call. Results equal run_backtest's, config by config."""
    return grid.run_grid(
        configs,
        feed,
        sinks,
        clock,
        slow_chunk=SLOW_CHUNK,
        chunk_seconds=CHUNK_SECONDS,
        batch=batch,
        keep_trades=keep_trades,
        funding=funding,
    )


def run_live(
    config: RunConfig,
    feed: Iterable[Any],
    sink: Sink,
    clock: Callable[[], float] = _time.monotonic,
    *,
    resume: dict[str, Any] | None = None,
    resume_trades: list | None = None,
    funding: Any = None,
    trade_from: int | None = None,
) -> Result:
    """Paper-trade `config` on a live feed until the sink says stop, the feed ends, or
    a candle opens at or after `range_end` (when set). `resume`: go on from a checkpoint the
    sink was handed (`on_checkpoint`), with the trades reported before it.

    The feed yields None (a tick while waiting; at least once a second) or the newly closed
    candles: a Candles (one market) or a list of Candles in market order. Candles opening
    before `trade_from` are warm-up: they fill the strategy's window and never trade.
    `funding`: as run_backtest's, asked at each funding time.
    """
    return live.run_live(
        config,
        feed,
        sink,
        clock,
        report_every=REPORT_EVERY,
        stop_check_every=STOP_CHECK_EVERY,
        metrics_every=LIVE_METRICS_EVERY,
        resume=resume,
        resume_trades=resume_trades,
        funding=funding,
        trade_from=trade_from,
    )


def run_scraper(config: RunConfig, feed: Iterable[Any], sink: Sink, archive_root: str) -> Result:
    """Record the live feed into the archive every `archive_interval` seconds until stopped."""
    return scraper.run_scraper(config, feed, sink, archive_root, report_every=REPORT_EVERY)
