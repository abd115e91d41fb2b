"""Runners: a backtest over a range, a live (paper) session over a live feed, a scraper.

The caller (the Celery task on the Django side) hands each runner a *sink*; the runner reports
trades, equity, logs, progress and metrics to it and asks it whether to stop. Both trading
runners share the strategy hooks and the Account, so a live session and a backtest of the
same candles make the same trades.
"""

from __future__ import annotations

import hashlib
import json
import time as _time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from bots.candles import Candles, align, concat, timeframe_seconds
from bots.markets import MarketSpec, market_specs
from bots.metrics import bucket_size, compute_metrics, downsample
from bots.simulator import Account, Trade, equity_series
from bots.strategies.base import Bar, Strategy
from bots.strategies.registry import get_strategy

# Backtests are processed in chunks so the sink hears from the runner (progress, stop) often.
FAST_CHUNK = 131_072
SLOW_CHUNK = 65_536
CHUNK_SECONDS = 0.25  # a per-candle chunk ends after this long
REPORT_EVERY = 0.5  # seconds between progress reports (live and scraper)
STOP_CHECK_EVERY = 0.25  # seconds between should_stop() calls of the live runners
LIVE_METRICS_EVERY = 2.0


def canonical_hash(canonical: Mapping[str, Any]) -> str:
    """The config hash: first 12 hex of sha256 over sorted, compact JSON. The one definition,
    used by RunConfig and by the Django side for a run before it exists as a RunConfig."""
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class NoDataError(RuntimeError):
    """The feed has no candles for the requested range."""


@dataclass
class RunConfig:
    """Everything that determines a run's result (its config hash is over these)."""

    strategy: str
    params: dict[str, Any]
    markets: list[MarketSpec]
    exchange: str = "sim"
    timeframe: str = "1m"
    range_start: int | None = None  # Unix seconds, inclusive (candle open time)
    range_end: int | None = None  # exclusive
    initial_balance: float = 10_000.0
    fee_bps: float = 7.5
    slippage_bps: float = 0.0
    # Extra packages searched for the strategy id (user strategies); not part of the hash.
    strategy_packages: tuple[str, ...] = ()

    @property
    def market(self) -> str:
        """The market as written in sessions: 'XBTUSD' or 'XBTUSD+ETHUSD'."""
        return "+".join(m.symbol for m in self.markets)

    @classmethod
    def for_market(cls, strategy: str, params: dict[str, Any], market: str, **kwargs: Any) -> RunConfig:
        """A config from a market string, using the engine's default market specs."""
        return cls(strategy=strategy, params=params, markets=market_specs(market), **kwargs)

    def canonical(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "params": self.params,
            "market": self.market,
            "exchange": self.exchange,
            "timeframe": self.timeframe,
            "range_start": self.range_start,
            "range_end": self.range_end,
            "initial_balance": float(self.initial_balance),
            "fee_bps": float(self.fee_bps),
            "slippage_bps": float(self.slippage_bps),
        }

    def config_hash(self) -> str:
        """First 12 hex of sha256 over the canonical JSON of the config (SPEC §3)."""
        return canonical_hash(self.canonical())


class Sink(Protocol):
    """Where a runner reports; implemented by the Django task (and by tests)."""

    def on_trades(self, trades: list[Trade]) -> None: ...
    def on_equity(self, points: list[tuple[int, float]]) -> None: ...
    def on_log(self, line: str) -> None: ...
    def on_progress(self, done: int, total: int | None) -> None: ...
    def on_metrics(self, metrics: dict[str, Any]) -> None: ...
    def should_stop(self) -> bool: ...


class ListSink:
    """A sink that keeps everything it is told; stops when `stop_when(self)` is true."""

    def __init__(self, stop_when: Callable[[ListSink], bool] | None = None):
        self.trades: list[Trade] = []
        self.equity: list[tuple[int, float]] = []
        self.logs: list[str] = []
        self.progress: list[tuple[int, int | None]] = []
        self.metrics: list[dict[str, Any]] = []
        self.stop_checks = 0
        self.stop_when = stop_when

    def on_trades(self, trades: list[Trade]) -> None:
        self.trades.extend(trades)

    def on_equity(self, points: list[tuple[int, float]]) -> None:
        self.equity.extend(points)

    def on_log(self, line: str) -> None:
        self.logs.append(line)

    def on_progress(self, done: int, total: int | None) -> None:
        self.progress.append((done, total))

    def on_metrics(self, metrics: dict[str, Any]) -> None:
        self.metrics.append(metrics)

    def should_stop(self) -> bool:
        self.stop_checks += 1
        return bool(self.stop_when and self.stop_when(self))


@dataclass
class Result:
    trades: list[Trade]
    metrics: dict[str, Any]
    equity: list[tuple[int, float]]  # downsampled (<= ~2,000 points), (time, equity)
    stopped: bool
    candles: int  # candles processed
    currency: str
    first_time: int | None = None
    last_time: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["trades"] = [t.to_dict() for t in self.trades]
        return data


def make_strategy(config: RunConfig) -> Strategy:
    cls = get_strategy(config.strategy, config.strategy_packages)
    strategy = cls(config.params)
    if len(config.markets) != cls.legs:
        raise ValueError(f"{cls.id} trades {cls.legs} market(s) at once; got {config.market!r}.")
    return strategy


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


class _Book:
    """The account plus the snapshots the vectorised equity needs."""

    def __init__(self, config: RunConfig):
        self.account = Account(config.markets, config.initial_balance, config.fee_bps, config.slippage_bps)
        self.snap_index: list[int] = [-1]
        self.snaps: list[tuple] = [self.account.snapshot()]

    def fill(self, targets: Sequence[float], k: int, times: np.ndarray, opens: Sequence[np.ndarray]) -> None:
        """Fill `targets` at candle k's open."""
        account = self.account
        prices = [o.item(k) for o in opens]  # .item: a Python float, fast
        t = times.item(k)
        for leg, target in enumerate(targets):
            if target != account.pos[leg]:
                account.fill(leg, target, prices[leg], t, prices)
        self.snap_index.append(k)
        self.snaps.append((account.cash, tuple(account.pos), tuple(account.entry_price)))

    def fill_many(
        self,
        fill_at: list[int],
        targets: list[tuple[float, ...]],
        times: np.ndarray,
        opens: Sequence[np.ndarray],
    ) -> None:
        """Fill each `targets[j]` at candle `fill_at[j]`'s open, in order."""
        if not fill_at:
            return
        index = np.asarray(fill_at)
        leg_prices = [o[index].tolist() for o in opens]
        fill_times = times[index].tolist()
        account = self.account
        pos, fill = account.pos, account.fill
        snap_index, snaps = self.snap_index, self.snaps
        if len(opens) == 1:
            for k, target, price, t in zip(fill_at, targets, leg_prices[0], fill_times, strict=True):
                fill(0, target[0], price, t, (price,))
                snap_index.append(k)
                snaps.append((account.cash, (pos[0],), (account.entry_price[0],)))
            return
        for j, (k, target, t) in enumerate(zip(fill_at, targets, fill_times, strict=True)):
            prices = [p[j] for p in leg_prices]
            for leg, size in enumerate(target):
                if size != pos[leg]:
                    fill(leg, size, prices[leg], t, prices)
            snap_index.append(k)
            snaps.append((account.cash, tuple(pos), tuple(account.entry_price)))


def _run_rules(
    book: _Book, rules, c0: int, c1: int, s0: int, n: int, times: np.ndarray, opens: list[np.ndarray]
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
    book: _Book,
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


def run_backtest(
    config: RunConfig, feed: Any, sink: Sink, clock: Callable[[], float] = _time.monotonic
) -> Result:
    """Backtest `config` over the feed's candles in [range_start, range_end).

    `clock` times the per-candle chunks (report and check stop about every second of it).
    """
    strategy = make_strategy(config)
    tf = timeframe_seconds(config.timeframe)
    legs = load_legs(config, feed)
    n = len(legs[0])
    book = _Book(config)
    account = book.account
    times = legs[0].time
    closes = [leg.close for leg in legs]
    time_list = times
    opens = [leg.open for leg in legs]
    window = max(1, int(strategy.window()))
    fast = strategy.uses_rules()
    bucket = bucket_size(n)
    chunk = FAST_CHUNK if fast else SLOW_CHUNK
    # Indicators cost ~window passes per candle: long windows get shorter chunks so each
    # chunk (and so each progress report and stop check) stays well under a second.
    chunk = min(chunk, max(8192, (1 << 23) // window))
    chunk = max(bucket, (chunk // bucket) * bucket)

    sink.on_log(
        f"Backtest {config.strategy} {config.params} on {config.exchange}:{config.market} "
        f"{config.timeframe}, {n:,} candles from {int(times[0])} to {int(times[-1])}."
    )
    sink.on_progress(0, n)

    eq_parts: list[np.ndarray] = []
    chart: list[tuple[int, float]] = []
    exposed = 0
    reported = 0
    stopped = False
    pending: tuple[float, ...] | None = None
    done = 0
    c0 = 0
    strategy_logs: list[str] = []
    final_point: tuple[int, float] | None = None
    while c0 < n:
        c1 = min(n, c0 + chunk)
        first_snap = len(book.snaps) - 1
        if pending is not None:
            book.fill(pending, c0, time_list, opens)
            pending = None
        s0 = max(0, c0 - window + 1)
        sub = [leg[s0:c1] for leg in legs]
        ind = strategy.precompute(sub)
        rules = strategy.rules(ind, sub)
        if fast and rules is not None:
            pending = _run_rules(book, rules, c0, c1, s0, n, time_list, opens)
        else:
            pending, c1 = _run_candles(
                strategy,
                book,
                sub,
                ind,
                rules,
                c0,
                c1,
                s0,
                n,
                time_list,
                opens,
                strategy_logs,
                bucket,
                CHUNK_SECONDS,
                clock,
            )
        eq, held = equity_series(
            account,
            np.asarray(book.snap_index[first_snap:]),
            book.snaps[first_snap:],
            [c[c0:c1] for c in closes],
            c0,
        )
        exposed += int(held.sum())
        done = c1
        last = c1 >= n
        if not last and sink.should_stop():
            stopped = True
        points = downsample(times[c0:c1], eq, bucket, offset=c0)
        if last or stopped:
            # The run ends: the open position closes at the last candle's close.
            end_prices = [float(c[c1 - 1]) for c in closes]
            account.close_all(end_prices, int(times[c1 - 1]) + tf)
            eq = eq.copy()
            eq[-1] = account.cash
            final_point = (int(times[c1 - 1]) + tf, account.cash)
            points.append(final_point)
        eq_parts.append(eq)
        chart.extend(points)
        for line in strategy_logs:
            sink.on_log(line)
        strategy_logs.clear()
        if len(account.trades) > reported:
            sink.on_trades(account.trades[reported:])
            reported = len(account.trades)
        sink.on_equity(points)
        sink.on_progress(done, n)
        if stopped:
            sink.on_log(f"Stopped after {done:,} of {n:,} candles.")
            break
        c0 = c1

    equity = np.concatenate(eq_parts) if eq_parts else np.empty(0)
    metrics = compute_metrics(
        trades=account.trades,
        times=times[:done],
        equity=equity,
        initial_balance=config.initial_balance,
        currency=account.currency,
        fees_paid=account.fees_paid,
        exposed_candles=exposed,
        candles=done,
    )
    sink.on_metrics(metrics)
    sink.on_log(
        f"{'Stopped' if stopped else 'Completed'}: {metrics['trade_count']} trades, "
        f"PnL {metrics['total_pnl']:.8g} {account.currency}."
    )
    return Result(
        trades=list(account.trades),
        metrics=metrics,
        equity=chart,
        stopped=stopped,
        candles=done,
        currency=account.currency,
        first_time=int(times[0]),
        last_time=int(times[done - 1]) if done else None,
    )


class _Tail:
    """The last `size` candles of one market, for the live strategy step."""

    def __init__(self, size: int):
        self.size = size
        self.candles = Candles.empty()

    def push(self, row: tuple) -> Candles:
        keep = self.candles[max(0, len(self.candles) - self.size + 1) :]
        self.candles = concat([keep, Candles.from_rows([row])])
        return self.candles


def _rows_of(item: Any) -> list[list[tuple]]:
    """A live feed item (Candles or a list of Candles, one per market) as row lists."""
    if isinstance(item, Candles):
        return [item.rows()]
    return [c.rows() for c in item]


def run_live(
    config: RunConfig, feed: Iterable[Any], sink: Sink, clock: Callable[[], float] = _time.monotonic
) -> Result:
    """Paper-trade `config` on a live feed until the sink says stop, the feed ends, or
    a candle opens at or after `range_end` (when set).

    The feed yields None (a tick while waiting; at least once a second) or the newly closed
    candles: a Candles (one market) or a list of Candles in market order. Closed trades are
    reported as they close; metrics mark the open position to market. On stop the open
    position is closed at the last close, as at the end of a backtest.
    """
    strategy = make_strategy(config)
    tf = timeframe_seconds(config.timeframe)
    book = _Book(config)
    account = book.account
    n_legs = len(config.markets)
    window = max(1, int(strategy.window()))
    tails = [_Tail(window) for _ in range(n_legs)]
    waiting: list[dict[int, tuple]] = [{} for _ in range(n_legs)]
    times: list[int] = []
    values: list[float] = []
    unsent: list[tuple[int, float]] = []
    exposed = 0
    pending: tuple[float, ...] | None = None
    last_closes: list[float] | None = None
    reported = 0
    total = None
    if config.range_start is not None and config.range_end is not None:
        total = max(0, (config.range_end - config.range_start) // tf)
    sink.on_log(
        f"Live {config.strategy} {config.params} on {config.exchange}:{config.market} {config.timeframe}."
    )
    sink.on_progress(0, total)
    last_report = last_stop_check = last_metrics = clock()
    stopped = False
    finished = False

    def step(t: int, rows: list[tuple]) -> None:
        nonlocal pending, exposed, last_closes
        opens = [r[1] for r in rows]
        closes = [r[4] for r in rows]
        if pending is not None:
            for leg, target in enumerate(pending):
                account.fill(leg, target, opens[leg], t, opens)
            pending = None
        eq = account.equity(closes)
        times.append(t)
        values.append(eq)
        unsent.append((t, eq))
        if any(p != 0.0 for p in account.pos):
            exposed += 1
        last_closes = closes
        tail = [tails[leg].push(rows[leg]) for leg in range(n_legs)]
        ind = strategy.precompute(tail)
        rules = strategy.rules(ind, tail)
        bar = Bar(len(tail[0]) - 1, tail, ind, account.positions(), rules)
        strategy.on_candle(bar)
        for line in bar.logs:
            sink.on_log(line)
        if bar.targets is not None and tuple(bar.targets) != account.positions():
            pending = tuple(bar.targets)

    def live_metrics() -> dict[str, Any]:
        unreal = account.unrealized(last_closes) if last_closes else 0.0
        return compute_metrics(
            trades=account.trades,
            times=np.asarray(times, dtype=np.int64),
            equity=np.asarray(values),
            initial_balance=config.initial_balance,
            currency=account.currency,
            fees_paid=account.fees_paid,
            exposed_candles=exposed,
            candles=len(times),
            unrealized_pnl=unreal,
        )

    def report() -> None:
        nonlocal reported
        if len(account.trades) > reported:
            new = account.trades[reported:]
            reported = len(account.trades)
            sink.on_trades(new)
            for trade in new:
                sink.on_log(
                    f"Closed {trade.side} {trade.market} {trade.entry_size:g} @ "
                    f"{trade.entry_price:.8g} -> {trade.exit_price:.8g}: "
                    f"{trade.realized_pnl:.8g} {trade.currency}"
                )
        if unsent:
            sink.on_equity(list(unsent))
            unsent.clear()
        sink.on_progress(len(times), total)

    for item in feed:
        if item is not None:
            for leg, rows in enumerate(_rows_of(item)):
                for row in rows:
                    waiting[leg][int(row[0])] = row
            ready = set(waiting[0])
            for other in waiting[1:]:
                ready &= set(other)
            for t in sorted(ready):
                rows = [w.pop(t) for w in waiting]
                for w in waiting:  # a time some market skipped will never be complete
                    for old in [k for k in w if k < t]:
                        del w[old]
                if config.range_start is not None and t < config.range_start:
                    continue
                if config.range_end is not None and t >= config.range_end:
                    finished = True
                    break
                traded_before = len(account.trades)
                step(t, rows)
                if len(account.trades) != traded_before:
                    report()
        now = clock()
        if now - last_report >= REPORT_EVERY:
            report()
            last_report = now
            if now - last_metrics >= LIVE_METRICS_EVERY and times:
                sink.on_metrics(live_metrics())
                last_metrics = now
        if finished:
            break
        if now - last_stop_check >= STOP_CHECK_EVERY or item is None:
            last_stop_check = now
            if sink.should_stop():
                stopped = True
                break

    if times and last_closes is not None:
        end_time = times[-1] + tf
        account.close_all(last_closes, end_time)
        values[-1] = account.cash
        unsent.append((end_time, account.cash))
    report()
    metrics = live_metrics()
    sink.on_metrics(metrics)
    sink.on_log(
        f"{'Stopped' if stopped else 'Finished'}: {len(times):,} candles, "
        f"{metrics['trade_count']} trades, PnL {metrics['total_pnl']:.8g} {account.currency}."
    )
    chart: list[tuple[int, float]] = []
    if times:
        t_arr = np.asarray(times, dtype=np.int64)
        chart = downsample(t_arr, np.asarray(values), bucket_size(len(times)))
        chart.append((times[-1] + tf, account.cash))
    return Result(
        trades=list(account.trades),
        metrics=metrics,
        equity=chart,
        stopped=stopped,
        candles=len(times),
        currency=account.currency,
        first_time=times[0] if times else None,
        last_time=times[-1] if times else None,
    )


def run_scraper(config: RunConfig, feed: Iterable[Any], sink: Sink, archive_root: str) -> Result:
    """Record the live feed into the archive every `archive_interval` seconds until stopped."""
    from bots import archive  # local: the trading runners need no archive

    interval = float(config.params.get("archive_interval", 60))
    tf = timeframe_seconds(config.timeframe)
    symbols = [m.symbol for m in config.markets]
    buffers: list[list[Candles]] = [[] for _ in symbols]
    stored = 0
    received = 0
    last_time: int | None = None
    clock = _time.monotonic
    last_flush = last_report = clock()
    stopped = False
    sink.on_log(
        f"Scraping {config.exchange}:{config.market} {config.timeframe} into the archive "
        f"every {interval:g} s."
    )
    sink.on_progress(0, None)

    def scraper_metrics() -> dict[str, Any]:
        return {
            "data_points": received,
            "stored": stored,
            "last_time": last_time,
            "markets": symbols,
            "timeframe": config.timeframe,
        }

    def flush() -> None:
        nonlocal stored
        wrote = False
        for k, symbol in enumerate(symbols):
            if not buffers[k]:
                continue
            batch = concat(buffers[k])
            buffers[k] = []
            added = archive.write(archive_root, config.exchange, symbol, config.timeframe, batch)
            stored += added
            wrote = True
            sink.on_log(
                f"Archived {added} new {config.timeframe} candles of {symbol} (up to {int(batch.time[-1])})."
            )
        if wrote:
            sink.on_metrics(scraper_metrics())

    for item in feed:
        if item is not None:
            parts = [item] if isinstance(item, Candles) else list(item)
            for k, candles in enumerate(parts):
                candles = candles.between(config.range_start, config.range_end)
                if len(candles):
                    buffers[k].append(candles)
                    received += len(candles)
                    last_time = int(candles.time[-1])
            if config.range_end is not None and last_time is not None and last_time + tf >= config.range_end:
                break
        now = clock()
        if now - last_flush >= interval:
            flush()
            last_flush = now
        if now - last_report >= REPORT_EVERY or item is None:
            last_report = now
            sink.on_progress(received, None)
            if sink.should_stop():
                stopped = True
                break
    flush()
    metrics = scraper_metrics()
    sink.on_progress(received, None)
    sink.on_metrics(metrics)
    sink.on_log(
        f"{'Stopped' if stopped else 'Finished'}: {received:,} candles received, {stored:,} new in the archive."
    )
    return Result(
        trades=[],
        metrics=metrics,
        equity=[],
        stopped=stopped,
        candles=received,
        currency=config.markets[0].settle,
        last_time=last_time,
    )
