"""The backtest runner: a strategy over a range of candles, in chunks the sink hears about.

A strategy with rules walks them in compiled code (bots.runners.compiled) or, as the
reference, in Python here; one without is called candle by candle. A sweep's runs at once:
bots.runners.grid."""

from __future__ import annotations

import time as _time
from bisect import bisect_left
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from bots import fast
from bots.candles import Candles, align, timeframe_seconds
from bots.metrics import bucket_size, compute_metrics, downsample
from bots.runners.book import Book
from bots.runners.compiled import CompiledLegs
from bots.runners.config import RunConfig, make_strategy
from bots.runners.sink import Result, Sink
from bots.simulator import equity_series
from bots.strategies.base import Bar, Strategy


class NoDataError(RuntimeError):
    """The feed has no candles for the requested range."""


def load_legs(config: RunConfig, feed: Any) -> list[Candles]:
    """The range's candles per market from `feed`, aligned on common open times.

    `feed` may be: Candles (one market), a list of Candles in market order, a mapping
    symbol -> Candles, an exchange (anything with fetch_candles(symbol, timeframe, start,
    end)), or a callable symbol -> Candles.
    """
    symbols = [m.symbol for m in config.markets]
    if isinstance(feed, Candles):
        raw = [feed]
    elif isinstance(feed, Mapping):
        raw = [feed[s] for s in symbols]
    elif isinstance(feed, (list, tuple)):
        raw = list(feed)
    elif hasattr(feed, "fetch_candles"):
        raw = [feed.fetch_candles(s, config.timeframe, config.range_start, config.range_end) for s in symbols]
    elif callable(feed):
        raw = [feed(s) for s in symbols]
    else:
        raise TypeError(f"Unsupported backtest feed {type(feed).__name__}.")
    if len(raw) != len(symbols):
        raise ValueError(f"The feed has {len(raw)} candle sets for {len(symbols)} markets.")
    legs = align([c.between(config.range_start, config.range_end) for c in raw])
    if len(legs[0]) == 0:
        raise NoDataError(
            f"No {config.timeframe} candles for {config.market} on {config.exchange} in the requested range."
        )
    return legs


def _run_rules(
    book: Book, rules, c0: int, c1: int, s0: int, n: int, times: np.ndarray, opens: list[np.ndarray]
) -> tuple[float, ...] | None:
    """Jump from one rule firing to the next within [c0, c1); return a fill pending at c1.

    Fills always reach their targets, so the walk only needs the state; the fills follow in
    one pass with their prices gathered at once.
    """
    by_state: dict[tuple, list[tuple[list[int], tuple]]] = {}
    for rule in rules:
        hits = (np.flatnonzero(rule.mask[c0 - s0 :]) + c0).tolist()
        by_state.setdefault(tuple(float(x) for x in rule.when), []).append(
            (hits, tuple(float(x) for x in rule.then))
        )
    state = book.account.positions()
    fill_at: list[int] = []
    targets: list[tuple[float, ...]] = []
    pending = None
    i = c0
    while True:
        candidates = by_state.get(state)
        if not candidates:
            break
        best, then = c1, None
        for hits, to in candidates:
            k = bisect_left(hits, i)
            if k < len(hits) and hits[k] < best:
                best, then = hits[k], to
        if then is None:
            break
        i = best + 1
        if i >= c1:
            pending = then if i < n else None
            break
        fill_at.append(i)
        targets.append(then)
        state = then
    book.fill_many(fill_at, targets, times, opens)
    return pending


def _run_candles(
    strategy: Strategy,
    book: Book,
    sub: list[Candles],
    ind,
    rules,
    c0: int,
    c1: int,
    s0: int,
    n: int,
    times,
    opens,
    logs: list[str],
    bucket: int,
    budget: float,
    clock: Callable[[], float] = _time.monotonic,
) -> tuple[tuple[float, ...] | None, int]:
    """Call on_candle for candles from c0 on; return (fill pending at the end, end).

    Stops early, on a chart-bucket boundary, once `budget` seconds have passed, so a slow
    strategy still lets the runner report and check for stop every second.
    """
    account = book.account
    pending = None
    deadline = clock() + budget
    end = c1
    i = c0
    while i < end:
        if pending is not None:
            book.fill(pending, i, times, opens)
            pending = None
        bar = Bar(i - s0, sub, ind, account.positions(), rules)
        strategy.on_candle(bar)
        if bar.logs:
            logs.extend(bar.logs)
        if bar.targets is not None and tuple(bar.targets) != account.positions():
            pending = tuple(bar.targets)
        i += 1
        if end == c1 and i % 256 == 0 and clock() > deadline:
            end = min(c1, -(-i // bucket) * bucket)
    return (pending if end < n else None), end


class Backtest:
    """One backtest's state between chunks: the book, the equity so far, what was reported."""

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
        compiled_rules: bool = True,
        compiled_arrays: CompiledLegs | None = None,
    ):
        self.config, self.strategy, self.tf, self.legs = config, strategy, tf, legs
        self.sink, self.clock, self.chunk_seconds = sink, clock, chunk_seconds
        self.n = len(legs[0])
        self.book = Book(config)
        self.account = self.book.account
        self.times = legs[0].time
        self.closes = [leg.close for leg in legs]
        self.opens = [leg.open for leg in legs]
        self.window = max(1, int(strategy.window()))
        self.fast = strategy.uses_rules()
        # The compiled rules path (bots.fast); the Python one stays as the reference.
        self.compiled = None
        if self.fast and compiled_rules:
            self.compiled = compiled_arrays or CompiledLegs(self.account, legs)
        # A walk of the whole range done beforehand (run_grid): (equity, candles held).
        self.preset: tuple[np.ndarray, int] | None = None
        self.bucket = bucket_size(self.n)
        chunk = fast_chunk if self.fast else slow_chunk
        # Indicators cost ~window passes per candle: long windows get shorter chunks so each
        # chunk (and so each progress report and stop check) stays well under a second.
        chunk = min(chunk, max(8192, (1 << 23) // self.window))
        self.chunk = max(self.bucket, (chunk // self.bucket) * self.bucket)

        self.eq_parts: list[np.ndarray] = []
        self.chart: list[tuple[int, float]] = []
        self.exposed = 0
        self.reported = 0
        self.stopped = False
        self.pending: tuple[float, ...] | None = None
        self.done = 0
        self.strategy_logs: list[str] = []

    def run(self) -> Result:
        config, n, times = self.config, self.n, self.times
        self.sink.on_log(
            f"Backtest {config.strategy} {config.params} on {config.exchange}:{config.market} "
            f"{config.timeframe}, {n:,} candles from {int(times[0])} to {int(times[-1])}."
        )
        self.sink.on_progress(0, n)
        c0 = 0
        while c0 < n:
            c1 = self._chunk(c0)
            if self.stopped:
                self.sink.on_log(f"Stopped after {self.done:,} of {n:,} candles.")
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
            t, v = fast.downsample_chunk(self.compiled.times[c0:c1], eq, self.bucket, c0)
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
            points = downsample(self.times[c0:c1], eq, self.bucket, offset=c0)
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
        if self.preset is not None and c0 == 0 and c1 == self.n:
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
        """The strategy over [c0, c1): by its rules when it has them, else candle by candle."""
        book, times, opens = self.book, self.times, self.opens
        if self.pending is not None:
            book.fill(self.pending, c0, times, opens)
            self.pending = None
        s0 = max(0, c0 - self.window + 1)
        sub = [leg[s0:c1] for leg in self.legs]
        ind = self.strategy.precompute(sub)
        rules = self.strategy.rules(ind, sub)
        if self.fast and rules is not None:
            self.pending = _run_rules(book, rules, c0, c1, s0, self.n, times, opens)
            return c1
        self.pending, c1 = _run_candles(
            self.strategy,
            book,
            sub,
            ind,
            rules,
            c0,
            c1,
            s0,
            self.n,
            times,
            opens,
            self.strategy_logs,
            self.bucket,
            self.chunk_seconds,
            self.clock,
        )
        return c1

    def _close_at(self, c1: int, eq: np.ndarray, points: list[tuple[int, float]]) -> np.ndarray:
        """The run ends: the open position closes at the last candle's close."""
        account, end_time = self.account, int(self.times[c1 - 1]) + self.tf
        account.close_all([float(c[c1 - 1]) for c in self.closes], end_time)
        eq = eq.copy()
        eq[-1] = account.cash
        points.append((end_time, account.cash))
        return eq

    def _report(self, points: list[tuple[int, float]]) -> None:
        sink, trades = self.sink, self.account.trades
        for line in self.strategy_logs:
            sink.on_log(line)
        self.strategy_logs.clear()
        if len(trades) > self.reported:
            sink.on_trades(trades[self.reported :])
            self.reported = len(trades)
        sink.on_equity(points)
        sink.on_progress(self.done, self.n)

    def _finish(self) -> Result:
        account, done = self.account, self.done
        equity = np.concatenate(self.eq_parts) if self.eq_parts else np.empty(0)
        metrics = compute_metrics(
            trades=account.trades,
            times=self.times[:done],
            equity=equity,
            initial_balance=self.config.initial_balance,
            currency=account.currency,
            fees_paid=account.fees_paid,
            exposed_candles=self.exposed,
            candles=done,
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
            candles=done,
            currency=account.currency,
            first_time=int(self.times[0]),
            last_time=int(self.times[done - 1]) if done else None,
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
) -> Result:
    """Backtest `config` over the feed's candles in [range_start, range_end).

    Chunks hold up to `fast_chunk` candles for a strategy with rules, `slow_chunk` for one
    called per candle; `clock` times a per-candle chunk, which ends after `chunk_seconds`.
    """
    strategy = make_strategy(config)
    tf = timeframe_seconds(config.timeframe)
    legs = load_legs(config, feed)
    backtest = Backtest(
        config,
        strategy,
        tf,
        legs,
        sink,
        clock,
        fast_chunk=fast_chunk,
        slow_chunk=slow_chunk,
        chunk_seconds=chunk_seconds,
        compiled_rules=compiled_rules,
    )
    return backtest.run()
