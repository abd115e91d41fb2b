"""The backtest runner: a strategy over a range of candles, in chunks the sink hears about."""

from __future__ import annotations

import time as _time
from bisect import bisect_left
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from bots import fast as compiled
from bots import indicators
from bots.candles import Candles, align, timeframe_seconds
from bots.metrics import bucket_size, compute_metrics, downsample
from bots.runners.book import Book
from bots.runners.config import RunConfig, make_strategy
from bots.runners.sink import NullSink, Result, Sink
from bots.simulator import equity_series
from bots.strategies.base import Bar, Rule, Strategy


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


class _Step:
    """One config's walk over [c0, c1) as the kernels take it: rules as state ids, the account
    as arrays (written back by `apply`)."""

    def __init__(self, account, rules: list[Rule], pending: tuple | None, width: int):
        states: dict[tuple[float, ...], int] = {}
        ids: dict[int, int] = {}
        self.masks: list[np.ndarray] = []
        when, which, then = [], [], []
        for rule in rules:
            when.append(states.setdefault(tuple(float(x) for x in rule.when), len(states)))
            then.append(states.setdefault(tuple(float(x) for x in rule.then), len(states)))
            if id(rule.mask) not in ids:
                ids[id(rule.mask)] = len(self.masks)
                self.masks.append(np.asarray(rule.mask, dtype=np.bool_)[:width])
            which.append(ids[id(rule.mask)])
        self.state = states.setdefault(account.positions(), len(states))
        self.pending = (
            -1 if pending is None else states.setdefault(tuple(float(x) for x in pending), len(states))
        )
        self.when = np.array(when, dtype=np.int64)
        self.which = np.array(which, dtype=np.int64)
        self.then = np.array(then, dtype=np.int64)
        self.state_pos = np.array(list(states), dtype=np.float64).reshape(len(states), len(account.pos))
        self.acct = np.array([account.cash, account.fees_paid])
        self.pos = np.array(account.pos, dtype=np.float64)
        self.entry_price = np.array(account.entry_price, dtype=np.float64)
        self.entry_time = np.array(account.entry_time, dtype=np.int64)
        self.entry_fee = np.array(account.entry_fee, dtype=np.float64)
        self.entry_fee_run = np.array(account.entry_fee_run, dtype=np.float64)

    def apply(self, account, rows: np.ndarray, pending: int) -> tuple[float, ...] | None:
        """Write the kernel's account back and log its trades; return the fill pending."""
        account.cash, account.fees_paid = float(self.acct[0]), float(self.acct[1])
        account.pos = self.pos.tolist()
        account.entry_price = self.entry_price.tolist()
        account.entry_time = self.entry_time.tolist()
        account.entry_fee = self.entry_fee.tolist()
        account.entry_fee_run = self.entry_fee_run.tolist()
        account.trades.extend_rows(rows)
        return None if pending < 0 else tuple(self.state_pos[pending].tolist())


class _Compiled:
    """The arrays the compiled rules path (bots.fast) takes, made once per set of legs."""

    def __init__(self, account, legs: list[Candles]):
        self.times = np.ascontiguousarray(legs[0].time, dtype=np.int64)
        self.opens = np.ascontiguousarray(np.vstack([leg.open for leg in legs]), dtype=np.float64)
        self.closes = np.ascontiguousarray(np.vstack([leg.close for leg in legs]), dtype=np.float64)
        self.kind, self.mult, self.fx_leg, self.fx_div = compiled.leg_arrays(account.markets, account.fx_plan)

    def walk(
        self, account, rules: list[Rule], c0: int, c1: int, s0: int, n: int, pending: tuple | None
    ) -> tuple[np.ndarray, int, tuple[float, ...] | None]:
        """The rules over [c0, c1) in compiled code; the account is updated as Account.fill would.

        Returns (equity at each close, candles with a position, fill pending at c1).
        """
        step = _Step(account, rules, pending, c1 - s0)
        mask_arr = np.zeros((max(1, len(step.masks)), c1 - s0), dtype=np.bool_)
        for k, mask in enumerate(step.masks):
            mask_arr[k] = mask
        rows, nt, equity, exposed, _, pend = compiled.walk_chunk(
            c0, c1, s0, n, step.state, step.pending, step.when, step.which, step.then, mask_arr,
            step.state_pos, self.times, self.opens, self.closes, self.kind, self.mult, self.fx_leg,
            self.fx_div, account.fee_rate, account.slippage, step.acct, step.pos, step.entry_price,
            step.entry_time, step.entry_fee, step.entry_fee_run,
        )  # fmt: skip
        pending = step.apply(account, rows[:nt].copy(), pend)
        return equity, int(exposed), pending

    def walk_many(
        self, accounts: list, rules: list[list[Rule]], c0: int, c1: int, s0: int, n: int
    ) -> list[tuple[np.ndarray, int, tuple[float, ...] | None]]:
        """`walk` for many configs in one compiled call; masks they share are passed once.

        Returns per config (equity at each close, candles held, fill pending at c1).
        """
        steps = [_Step(account, r, None, c1 - s0) for account, r in zip(accounts, rules, strict=True)]
        bank: dict[int, int] = {}
        masks: list[np.ndarray] = []
        which = []
        for step in steps:
            local = []
            for mask in step.masks:
                # a step's masks are views of the rules' arrays: configs sharing one share its view
                key = id(mask if mask.base is None else mask.base)
                if key not in bank:
                    bank[key] = len(masks)
                    masks.append(mask)
                local.append(bank[key])
            which.append(np.array(local, dtype=np.int64)[step.which])
        mask_arr = np.zeros((max(1, len(masks)), c1 - s0), dtype=np.bool_)
        for k, mask in enumerate(masks):
            mask_arr[k] = mask

        def offsets(parts):
            return np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)

        books = [
            np.stack([getattr(s, name) for s in steps])
            for name in ("acct", "pos", "entry_price", "entry_time", "entry_fee", "entry_fee_run")
        ]
        rows, trade_off, equity, exposed, _, pend = compiled.walk_many(
            c0, c1, s0, n,
            np.array([s.state for s in steps], dtype=np.int64), np.array([s.pending for s in steps], dtype=np.int64),
            offsets([s.when for s in steps]), np.concatenate([s.when for s in steps]), np.concatenate(which),
            np.concatenate([s.then for s in steps]), mask_arr, offsets([s.state_pos for s in steps]),
            np.concatenate([s.state_pos for s in steps]), self.times, self.opens, self.closes, self.kind,
            self.mult, self.fx_leg, self.fx_div, np.array([a.fee_rate for a in accounts]),
            np.array([a.slippage for a in accounts]), *books,
        )  # fmt: skip
        out = []
        for b, (step, account) in enumerate(zip(steps, accounts, strict=True)):
            # the kernel updated the stacked accounts: this config's rows are its state now
            step.acct, step.pos, step.entry_price, step.entry_time, step.entry_fee, step.entry_fee_run = (
                book[b] for book in books
            )
            pending = step.apply(account, rows[trade_off[b] : trade_off[b + 1]], int(pend[b]))
            out.append((equity[b], int(exposed[b]), pending))
        return out


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


class _Backtest:
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
        compiled_arrays: _Compiled | None = None,
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
            self.compiled = compiled_arrays or _Compiled(self.account, legs)
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
            t, v = compiled.downsample_chunk(self.compiled.times[c0:c1], eq, self.bucket, c0)
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
    backtest = _Backtest(
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


def run_grid(
    configs: list[RunConfig],
    feed: Any,
    sinks: list[Sink] | None = None,
    clock: Callable[[], float] = _time.monotonic,
    *,
    slow_chunk: int,
    chunk_seconds: float,
    batch: int = 8,
    keep_trades: bool = True,
) -> list[Result]:
    """Backtest many configs of one market, timeframe and range (a sweep's runs) at once.

    The candles are loaded once, each distinct indicator array is computed once
    (bots.indicators.shared), and the rules of `batch` configs at a time run in one compiled
    call. Each run reports to its sink (`sinks[i]`, or nowhere) as run_backtest would, in one
    chunk; results equal run_backtest's. `keep_trades=False` leaves the results' trades empty
    (the sinks had them), so a big grid does not hold every trade in memory.
    """
    if not configs:
        return []
    first = configs[0]
    shape = (first.market, first.exchange, first.timeframe, first.range_start, first.range_end)
    for config in configs:
        if (config.market, config.exchange, config.timeframe, config.range_start, config.range_end) != shape:
            raise ValueError("run_grid takes configs of one market, exchange, timeframe and range.")
    sinks = sinks if sinks is not None else [NullSink() for _ in configs]
    if len(sinks) != len(configs):
        raise ValueError(f"{len(sinks)} sinks for {len(configs)} configs.")
    legs = load_legs(first, feed)
    tf = timeframe_seconds(first.timeframe)
    n = len(legs[0])
    shared: _Compiled | None = None
    results: list[Result] = []
    with indicators.shared():
        for start in range(0, len(configs), max(1, batch)):
            group = []
            for config, sink in zip(
                configs[start : start + batch], sinks[start : start + batch], strict=True
            ):
                strategy = make_strategy(config)
                if shared is None and strategy.uses_rules():
                    shared = _Compiled(Book(config).account, legs)
                backtest = _Backtest(
                    config, strategy, tf, legs, sink, clock, fast_chunk=n, slow_chunk=slow_chunk,
                    chunk_seconds=chunk_seconds, compiled_arrays=shared,
                )  # fmt: skip
                group.append(backtest)
            walks = []
            for backtest in group:
                if backtest.compiled is None:
                    continue
                backtest.chunk = n  # one chunk: the whole range was walked at once
                rules = backtest.strategy.rules(backtest.strategy.precompute(legs), legs)
                if rules is not None:
                    walks.append((backtest, rules))
            if walks:
                walked = shared.walk_many([b.account for b, _ in walks], [r for _, r in walks], 0, n, 0, n)
                for (backtest, _), (equity, exposed, _pending) in zip(walks, walked, strict=True):
                    backtest.preset = (equity, exposed)
            for backtest in group:
                result = backtest.run()
                if not keep_trades:
                    result.trades = []
                results.append(result)
    return results
