"""The backtest runner: a strategy over a range of candles, in chunks the sink hears about.

A strategy with rules walks them in compiled code (bots.runners.compiled) or, as the
reference, in Python here; one without is called candle by candle. A sweep's runs at once:
bots.runners.grid."""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from bots import fast
from bots.candles import Candles, align, timeframe_seconds
from bots.funding import FundingRates, sim_rates
from bots.metrics import bucket_size, compute_metrics, downsample
from bots.runners.book import Book
from bots.runners.compiled import CompiledLegs
from bots.runners.config import RunConfig, make_strategy
from bots.runners.events import Reporter
from bots.runners.sink import Result, Sink
from bots.simulator import equity_series
from bots.strategies.base import Bar, Strategy


class NoDataError(RuntimeError):
    """The feed has no candles for the requested range."""


def load_legs(config: RunConfig, feed: Any, warmup: int = 0) -> tuple[list[Candles], int]:
    """The range's candles per market from `feed`, aligned on common open times, after up to
    `warmup` candles from before `range_start` (the strategy's history: not traded). Returns
    (legs, index of the first candle of the range).

    `feed` may be: Candles (one market), a list of Candles in market order, a mapping
    symbol -> Candles, an exchange (anything with fetch_candles(symbol, timeframe, start,
    end)), or a callable symbol -> Candles.
    """
    symbols = [m.symbol for m in config.markets]
    begin = config.range_start
    if begin is not None and warmup > 0:
        begin = begin - warmup * timeframe_seconds(config.timeframe)
    if isinstance(feed, Candles):
        raw = [feed]
    elif isinstance(feed, Mapping):
        raw = [feed[s] for s in symbols]
    elif isinstance(feed, (list, tuple)):
        raw = list(feed)
    elif hasattr(feed, "fetch_candles"):
        raw = [feed.fetch_candles(s, config.timeframe, begin, config.range_end) for s in symbols]
    elif callable(feed):
        raw = [feed(s) for s in symbols]
    else:
        raise TypeError(f"Unsupported backtest feed {type(feed).__name__}.")
    if len(raw) != len(symbols):
        raise ValueError(f"The feed has {len(raw)} candle sets for {len(symbols)} markets.")
    legs = align([c.between(begin, config.range_end) for c in raw])
    start = 0
    if config.range_start is not None:
        start = int(np.searchsorted(legs[0].time, config.range_start, side="left"))
        if start > warmup:  # more history than asked for: keep only the warm-up
            legs = [leg[start - warmup :] for leg in legs]
            start = warmup
    if len(legs[0]) <= start:
        raise NoDataError(
            f"No {config.timeframe} candles for {config.market} on {config.exchange} in the requested range."
        )
    return legs, start


def funding_array(config: RunConfig, legs: list[Candles], funding: Any, feed: Any) -> np.ndarray | None:
    """Per leg and candle, the funding rate due at that candle's open (the rates of the funding
    times T with previous open < T <= its open); None when no leg pays funding."""
    on = config.funding_legs()
    if not any(on):
        return None
    source = funding
    if source is None and hasattr(feed, "fetch_funding"):
        source = feed
    times = legs[0].time
    out = np.zeros((len(legs), len(times)))
    start, end = int(times[0]), int(times[-1]) + 1
    for leg, spec in enumerate(config.markets):
        if not on[leg]:
            continue
        if source is None:
            if config.exchange != "sim":
                continue
            rates = sim_rates(spec.symbol, start, end, spec.funding_interval_hours)
        elif isinstance(source, Mapping):
            rates = source.get(spec.symbol, FundingRates.empty()).between(start, end)
        else:
            rates = source.fetch_funding(spec.symbol, start, end)
        index = np.searchsorted(times, rates.times, side="left")
        keep = index < len(times)
        np.add.at(out[leg], index[keep], rates.rates[keep])
    return out


def _run_candles(walk: Backtest, sub: list[Candles], ind, rules, c0: int, c1: int, s0: int) -> int:
    """Candle by candle from c0: each candle's open (funding, the fill asked for, the
    liquidation check), then on_candle after its close; return where it ended.

    Stops early, on a chart-bucket boundary, once the chunk's time budget has passed, so a
    slow strategy still lets the runner report and check for stop every second.
    """
    book, strategy, account = walk.book, walk.strategy, walk.account
    times, opens, highs, lows, frates = walk.times, walk.opens, walk.highs, walk.lows, walk.frates
    clock, bucket, logs, n = walk.clock, walk.bucket, walk.strategy_logs, walk.n
    pending, walk.pending = walk.pending, None
    deadline = clock() + walk.chunk_seconds
    end = c1
    i = c0
    while i < end:
        book.open_candle(i, pending, times, opens, highs, lows, frates)
        pending = None
        if not account.halted:
            bar = Bar(i - s0, sub, ind, account.positions(), rules)
            strategy.on_candle(bar)
            if bar.logs:
                logs.extend(bar.logs)
            if bar.targets is not None and tuple(bar.targets) != account.positions():
                pending = tuple(bar.targets)
        i += 1
        if end == c1 and (i - walk.start) % 256 == 0 and clock() > deadline:
            end = min(c1, walk.start + -(-(i - walk.start) // bucket) * bucket)
    walk.pending = pending if end < n else None
    return end


class Backtest:
    """One backtest's state between chunks: the book, the equity so far, what was reported.

    Candle indexes are over `legs`, whose first `start` candles are the warm-up (history
    before range_start: the strategy's indicators read them; nothing trades or counts there).
    """

    def __init__(
        self,
        config: RunConfig,
        strategy: Strategy,
        tf: int,
        legs: list[Candles],
        sink: Sink,
        clock: Callable[[], float],
        *,
        fast_chunk: int,
        slow_chunk: int,
        chunk_seconds: float,
        start: int = 0,
        frates: np.ndarray | None = None,
        compiled_rules: bool = True,
        compiled_arrays: CompiledLegs | None = None,
    ):
        self.config, self.strategy, self.tf, self.legs = config, strategy, tf, legs
        self.sink, self.clock, self.chunk_seconds = sink, clock, chunk_seconds
        self.n, self.start, self.frates = len(legs[0]), start, frates
        self.book = Book(config)
        self.account = self.book.account
        self.times = legs[0].time
        self.opens, self.highs, self.lows, self.closes = (
            [getattr(leg, name) for leg in legs] for name in ("open", "high", "low", "close")
        )
        self.window = max(1, int(strategy.window()))
        self.fast = strategy.uses_rules()
        # The compiled rules path (bots.fast); the Python one stays as the reference.
        self.compiled = None
        if self.fast and compiled_rules:
            self.compiled = compiled_arrays or CompiledLegs(legs, frates)
        # A walk of the whole range done beforehand (run_grid): (equity, candles held).
        self.preset: tuple[np.ndarray, int] | None = None
        self.bucket = bucket_size(self.n - start)
        chunk = fast_chunk if self.fast else slow_chunk
        # Indicators cost ~window passes per candle: long windows get shorter chunks so each
        # chunk (and so each progress report and stop check) stays well under a second.
        chunk = min(chunk, max(8192, (1 << 23) // self.window))
        self.chunk = max(self.bucket, (chunk // self.bucket) * self.bucket)

        self.eq_parts: list[np.ndarray] = []
        self.chart: list[tuple[int, float]] = []
        self.exposed = 0
        self.stopped = False
        self.pending: tuple[float, ...] | None = None
        self.done = start
        self.strategy_logs: list[str] = []
        self.reporter = Reporter(sink, self.account)

    def run(self) -> Result:
        config, n, times, start = self.config, self.n, self.times, self.start
        warmup = f" after {start:,} candles of warm-up" if start else ""
        self.sink.on_log(
            f"Backtest {config.strategy} {config.params} on {config.exchange}:{config.market} "
            f"{config.timeframe}, {n - start:,} candles from {int(times[start])} to {int(times[-1])}{warmup}."
        )
        self.sink.on_progress(0, n - start)
        c0 = start
        while c0 < n:
            c1 = self._chunk(c0)
            if self.stopped:
                self.sink.on_log(f"Stopped after {self.done - start:,} of {n - start:,} candles.")
                break
            c0 = c1
        return self._finish()

    def _chunk(self, c0: int) -> int:
        """Run, mark to market and report the candles from c0 on; return where the chunk ended."""
        book, closes, n = self.book, self.closes, self.n
        c1 = min(n, c0 + self.chunk)
        walked = self._walk_compiled(c0, c1) if self.compiled is not None else None
        if walked is not None:
            eq, exposed = walked
            t, v = fast.downsample_chunk(self.compiled.times[c0:c1], eq, self.bucket, c0 - self.start)
            points = list(zip(t.tolist(), v.tolist(), strict=True))
        else:
            if self.compiled is not None:  # the account moved without snapshots: take one
                book.snap_index.append(c0 - 1)
                book.snaps.append(self.account.snapshot())
            first_snap = len(book.snaps) - 1
            c1 = self._walk(c0, c1)
            eq, held = equity_series(
                self.account,
                np.asarray(book.snap_index[first_snap:]),
                book.snaps[first_snap:],
                [c[c0:c1] for c in closes],
                c0,
            )
            exposed = int(held.sum())
            points = downsample(self.times[c0:c1], eq, self.bucket, offset=c0 - self.start)
        self.exposed += exposed
        self.done = c1
        last = c1 >= n
        if not last and self.sink.should_stop():
            self.stopped = True
        if last or self.stopped:
            eq = self._close_at(c1, eq, points)
        self.eq_parts.append(eq)
        self.chart.extend(points)
        self._report(points)
        return c1

    def _walk_compiled(self, c0: int, c1: int) -> tuple[np.ndarray, int] | None:
        """The rules over [c0, c1) in compiled code: (equity at each close, candles held);
        None when the strategy gives no rules for this chunk (the Python path runs it)."""
        if self.preset is not None and c0 == self.start and c1 == self.n:
            walked, self.preset = self.preset, None
            return walked
        s0 = max(0, c0 - self.window + 1)
        sub = [leg[s0:c1] for leg in self.legs]
        rules = self.strategy.rules(self.strategy.precompute(sub), sub)
        if rules is None:
            return None
        eq, exposed, self.pending = self.compiled.walk(self.account, rules, c0, c1, s0, self.n, self.pending)
        return eq, exposed

    def _walk(self, c0: int, c1: int) -> int:
        """The strategy over [c0, c1), candle by candle (its rules, when it has them, through
        the default on_candle)."""
        s0 = max(0, c0 - self.window + 1)
        sub = [leg[s0:c1] for leg in self.legs]
        ind = self.strategy.precompute(sub)
        rules = self.strategy.rules(ind, sub)
        return _run_candles(self, sub, ind, rules, c0, c1, s0)

    def _close_at(self, c1: int, eq: np.ndarray, points: list[tuple[int, float]]) -> np.ndarray:
        """The run ends: the open position closes at the last candle's close."""
        account, end_time = self.account, int(self.times[c1 - 1]) + self.tf
        account.close_all([float(c[c1 - 1]) for c in self.closes], end_time)
        eq = eq.copy()
        eq[-1] = account.cash
        points.append((end_time, account.cash))
        return eq

    def _report(self, points: list[tuple[int, float]]) -> None:
        sink = self.sink
        for line in self.strategy_logs:
            sink.on_log(line)
        self.strategy_logs.clear()
        self.reporter.report()
        sink.on_equity(points)
        sink.on_progress(self.done - self.start, self.n - self.start)

    def _finish(self) -> Result:
        account, done, start = self.account, self.done, self.start
        equity = np.concatenate(self.eq_parts) if self.eq_parts else np.empty(0)
        metrics = compute_metrics(
            trades=account.trades,
            times=self.times[start:done],
            equity=equity,
            initial_balance=self.config.initial_balance,
            currency=account.currency,
            fees_paid=account.fees_paid,
            exposed_candles=self.exposed,
            candles=done - start,
            **account.figures(),
        )
        self.sink.on_metrics(metrics)
        self.sink.on_log(
            f"{'Stopped' if self.stopped else 'Completed'}: {metrics['trade_count']} trades, "
            f"PnL {metrics['total_pnl']:.8g} {account.currency}."
        )
        return Result(
            trades=account.trades,
            metrics=metrics,
            equity=self.chart,
            stopped=self.stopped,
            candles=done - start,
            currency=account.currency,
            first_time=int(self.times[start]),
            last_time=int(self.times[done - 1]) if done > start else None,
        )


def run_backtest(
    config: RunConfig,
    feed: Any,
    sink: Sink,
    clock: Callable[[], float] = _time.monotonic,
    *,
    fast_chunk: int,
    slow_chunk: int,
    chunk_seconds: float,
    compiled_rules: bool = True,
    funding: Any = None,
) -> Result:
    """Backtest `config` over the feed's candles in [range_start, range_end), after the
    strategy's warm-up candles from before it when the feed has them.

    Chunks hold up to `fast_chunk` candles for a strategy with rules, `slow_chunk` for one
    called per candle; `clock` times a per-candle chunk, which ends after `chunk_seconds`.
    `funding`: the rates' source (see funding_array).
    """
    strategy = make_strategy(config)
    tf = timeframe_seconds(config.timeframe)
    legs, start = load_legs(config, feed, max(0, int(strategy.startup_candles())))
    frates = funding_array(config, legs, funding, feed)
    backtest = Backtest(
        config, strategy, tf, legs, sink, clock, fast_chunk=fast_chunk, slow_chunk=slow_chunk,
        chunk_seconds=chunk_seconds, start=start, frates=frates, compiled_rules=compiled_rules,
    )  # fmt: skip
    if (
        any(config.funding_legs())
        and funding is None
        and config.exchange != "sim"
        and not hasattr(feed, "fetch_funding")
    ):
        sink.on_log(f"No funding rates for {config.market} on {config.exchange}: no funding charged.")
    return backtest.run()
