"""The live (paper) runner: a strategy on a live feed, closed candle by closed candle.

It can be interrupted and resumed: after each reported trade and each progress report it
hands the sink a checkpoint (`state()`: the account, the order waiting for the next open, the
strategy's candle window, the last candle), and `run_live(..., resume=...)` picks up from one.
Fed the candles after the checkpoint's last one, a resumed run makes the trades the
uninterrupted run would have made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from bots.candles import Candles, concat, timeframe_seconds
from bots.funding import FundingRates, funding_times, sim_rates
from bots.metrics import bucket_size, compute_metrics, downsample
from bots.runners.book import Book
from bots.runners.config import RunConfig, make_strategy
from bots.runners.events import Reporter
from bots.runners.sink import Result, Sink
from bots.simulator import Trade
from bots.strategies.base import Bar, Strategy

CHECKPOINT_VERSION = 2  # 1: before the margin account (read as: no funding, no liquidation yet)
CHECKPOINT_EQUITY_POINTS = 1000  # the equity curve kept in a checkpoint, extremes kept


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


class _LiveRun:
    """One live session's state: the book, the candles seen, what is still to report."""

    def __init__(
        self,
        config: RunConfig,
        strategy: Strategy,
        tf: int,
        sink: Sink,
        clock: Callable[[], float],
        *,
        report_every: float,
        stop_check_every: float,
        metrics_every: float,
        funding: Any = None,
        trade_from: int | None = None,
    ):
        self.funding, self.trade_from = funding, trade_from
        self.config, self.strategy, self.tf, self.sink, self.clock = config, strategy, tf, sink, clock
        self.report_every, self.stop_check_every, self.metrics_every = (
            report_every,
            stop_check_every,
            metrics_every,
        )
        self.book = Book(config)
        self.account = self.book.account
        self.n_legs = len(config.markets)
        window = max(1, int(strategy.window()))
        self.tails = [_Tail(window) for _ in range(self.n_legs)]
        # Rows per market by open time until every market has the time (pairs step together).
        self.waiting: list[dict[int, tuple]] = [{} for _ in range(self.n_legs)]
        self.times: list[int] = []
        self.values: list[float] = []
        self.unsent: list[tuple[int, float]] = []
        self.exposed = 0
        self.pending: tuple[float, ...] | None = None
        self.last_closes: list[float] | None = None
        self.reporter = Reporter(sink, self.account)
        self.resumed_after: int | None = None
        self.last_time: int | None = None
        self.first_time: int | None = None
        self.candles = 0  # candles stepped (len(times) until a resume folds the curve)
        self.total = None
        if config.range_start is not None and config.range_end is not None:
            self.total = max(0, (config.range_end - config.range_start) // tf)

    def run(self, feed: Iterable[Any]) -> Result:
        config, sink, clock = self.config, self.sink, self.clock
        sink.on_log(
            f"Live {config.strategy} {config.params} on {config.exchange}:{config.market} {config.timeframe}."
        )
        sink.on_progress(0, self.total)
        self.last_report = last_stop_check = self.last_metrics = clock()
        stopped = False
        finished = False
        for item in feed:
            if item is not None:
                finished = self._take(item)
            now = clock()
            self._report_due(now)
            if finished:
                break
            if now - last_stop_check >= self.stop_check_every or item is None:
                last_stop_check = now
                if sink.should_stop():
                    stopped = True
                    break
        return self._finish(stopped)

    def _take(self, item: Any) -> bool:
        """Step through the candles that every market now has; True once range_end is reached."""
        config, account, waiting = self.config, self.account, self.waiting
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
            if self.resumed_after is not None and t <= self.resumed_after:
                continue  # stepped before the checkpoint
            if self.trade_from is not None and t < self.trade_from:
                for leg in range(self.n_legs):  # warm-up: the strategy's history, not traded
                    self.tails[leg].push(rows[leg])
                continue
            if config.range_start is not None and t < config.range_start:
                continue
            if config.range_end is not None and t >= config.range_end:
                return True
            traded_before = len(account.trades)
            self._step(t, rows)
            if len(account.trades) != traded_before:
                self._report()
        return False

    def _step(self, t: int, rows: list[tuple]) -> None:
        """At this candle's open: the funding due, the fill the last candle asked for, the
        liquidation check over its range; mark at its close, then ask the strategy."""
        account = self.account
        opens = [r[1] for r in rows]
        closes = [r[4] for r in rows]
        if not account.halted:
            if self.last_time is not None and account.holding():
                rates = self._rates_due(self.last_time, t)
                if rates is not None:
                    account.fund(rates, opens)
            if self.pending is not None:
                for leg, target in enumerate(self.pending):
                    account.fill(leg, target, opens[leg], t, opens)
            account.check_liquidation(opens, [r[2] for r in rows], [r[3] for r in rows], t)
        self.pending = None
        eq = account.equity(closes)
        self.candles += 1
        if self.first_time is None:
            self.first_time = t
        self.last_time = t
        self.times.append(t)
        self.values.append(eq)
        self.unsent.append((t, eq))
        if any(p != 0.0 for p in account.pos):
            self.exposed += 1
        self.last_closes = closes
        tail = [self.tails[leg].push(rows[leg]) for leg in range(self.n_legs)]
        if account.halted:
            return
        ind = self.strategy.precompute(tail)
        rules = self.strategy.rules(ind, tail)
        bar = Bar(len(tail[0]) - 1, tail, ind, account.positions(), rules)
        self.strategy.on_candle(bar)
        for line in bar.logs:
            self.sink.on_log(line)
        if bar.targets is not None and tuple(bar.targets) != account.positions():
            self.pending = tuple(bar.targets)

    def _rates_due(self, previous: int, t: int) -> list[float] | None:
        """Per leg, the funding rates of the funding times in (previous, t] added up (as the
        backtest adds them per candle); None when no funding time falls there."""
        config, due, any_due = self.config, [], False
        for spec, on in zip(config.markets, config.funding_legs(), strict=True):
            total = 0.0
            if on and len(funding_times(previous + 1, t + 1, spec.funding_interval_hours)):
                if self.funding is not None:
                    if isinstance(self.funding, Mapping):
                        rates = self.funding.get(spec.symbol, FundingRates.empty()).between(
                            previous + 1, t + 1
                        )
                    else:
                        rates = self.funding.fetch_funding(spec.symbol, previous + 1, t + 1)
                elif config.exchange == "sim":
                    rates = sim_rates(spec.symbol, previous + 1, t + 1, spec.funding_interval_hours)
                else:
                    rates = FundingRates.empty()
                for rate in rates.rates.tolist():
                    total = total + rate
                any_due = any_due or len(rates) > 0
            due.append(total)
        return due if any_due else None

    def _metrics(self) -> dict[str, Any]:
        account = self.account
        unreal = account.unrealized(self.last_closes) if self.last_closes else 0.0
        return compute_metrics(
            trades=account.trades,
            times=np.asarray(self.times, dtype=np.int64),
            equity=np.asarray(self.values),
            initial_balance=self.config.initial_balance,
            currency=account.currency,
            fees_paid=account.fees_paid,
            exposed_candles=self.exposed,
            candles=self.candles,
            unrealized_pnl=unreal,
            **account.figures(),
        )

    def _report_due(self, now: float) -> None:
        """Report every `report_every` seconds; metrics (costlier) every `metrics_every`."""
        if now - self.last_report >= self.report_every:
            self._report()
            self.last_report = now
            if now - self.last_metrics >= self.metrics_every and self.times:
                self.sink.on_metrics(self._metrics())
                self.last_metrics = now

    def _report(self) -> None:
        sink = self.sink
        for trade in self.reporter.report():
            sink.on_log(
                f"Closed {trade.side} {trade.market} {trade.entry_size:g} @ "
                f"{trade.entry_price:.8g} -> {trade.exit_price:.8g}: "
                f"{trade.realized_pnl:.8g} {trade.currency}"
                + (" (liquidation)" if trade.exit_reason == "liquidation" else "")
            )
        if self.unsent:
            sink.on_equity(list(self.unsent))
            self.unsent.clear()
        sink.on_progress(self.candles, self.total)
        on_checkpoint = getattr(sink, "on_checkpoint", None)
        if on_checkpoint is not None and self.last_time is not None:
            on_checkpoint(self.state())

    # --- checkpoints -------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything the rest of the run depends on, as JSON-able values. Taken right after a
        report: every trade it counts has been handed to the sink."""
        account = self.account
        times = np.asarray(self.times, dtype=np.int64)
        curve = downsample(times, np.asarray(self.values), bucket_size(len(times), CHECKPOINT_EQUITY_POINTS))
        return {
            "version": CHECKPOINT_VERSION,
            "first_time": int(self.first_time),
            "last_time": int(self.last_time),
            "candles": self.candles,
            "exposed": self.exposed,
            "trades": self.reporter.trades,
            "events": self.reporter.events,
            "info_told": self.reporter.info_told,
            "pending": list(self.pending) if self.pending is not None else None,
            "last_closes": list(self.last_closes) if self.last_closes is not None else None,
            "account": {
                "cash": account.cash,
                "fees_paid": account.fees_paid,
                "pos": list(account.pos),
                "entry_price": list(account.entry_price),
                "entry_time": [int(t) for t in account.entry_time],
                "entry_fee": list(account.entry_fee),
                "entry_fee_run": list(account.entry_fee_run),
                "intent": list(account.intent),
                "fund_open": list(account.fund_open),
                "fund_open_run": list(account.fund_open_run),
                "funding_paid": account.funding_paid,
                "halted": account.halted,
                "counts": [account.liquidations, account.reduced, account.skipped],
            },
            "tails": [[list(row) for row in tail.candles.rows()] for tail in self.tails],
            "waiting": [[list(row) for _, row in sorted(w.items())] for w in self.waiting],
            "equity": [[int(t), float(v)] for t, v in curve],
        }

    def restore(self, state: dict[str, Any], trades: list[Trade]) -> None:
        """Continue from `state` (see `state()`); `trades` are the run's trades reported so far."""
        if state.get("version") not in (1, CHECKPOINT_VERSION):
            raise ValueError(f"Unknown checkpoint version {state.get('version')!r}.")
        account = self.account
        saved = state["account"]
        account.cash, account.fees_paid = float(saved["cash"]), float(saved["fees_paid"])
        account.pos = [float(v) for v in saved["pos"]]
        account.entry_price = [float(v) for v in saved["entry_price"]]
        account.entry_time = [int(v) for v in saved["entry_time"]]
        account.entry_fee = [float(v) for v in saved["entry_fee"]]
        account.entry_fee_run = [float(v) for v in saved["entry_fee_run"]]
        n = len(account.pos)
        account.intent = [float(v) for v in saved.get("intent", account.pos)]
        account.fund_open = [float(v) for v in saved.get("fund_open", [0.0] * n)]
        account.fund_open_run = [float(v) for v in saved.get("fund_open_run", [0.0] * n)]
        account.funding_paid = float(saved.get("funding_paid", 0.0))
        account.halted = bool(saved.get("halted", False))
        account.liquidations, account.reduced, account.skipped = (
            int(v) for v in saved.get("counts", [0, 0, 0])
        )
        account.trades = list(trades)
        # Events before the checkpoint were told; the account keeps only what comes after.
        self.reporter = Reporter(self.sink, account, len(account.trades), 0, int(state.get("info_told", 0)))
        self.pending = tuple(state["pending"]) if state["pending"] is not None else None
        self.last_closes = list(state["last_closes"]) if state["last_closes"] is not None else None
        self.candles, self.exposed = int(state["candles"]), int(state["exposed"])
        self.times = [int(t) for t, _ in state["equity"]]
        self.values = [float(v) for _, v in state["equity"]]
        for tail, rows in zip(self.tails, state["tails"], strict=True):
            tail.candles = Candles.from_rows([tuple(r) for r in rows])
        for waiting, rows in zip(self.waiting, state["waiting"], strict=True):
            waiting.update({int(r[0]): tuple(r) for r in rows})
        self.resumed_after = self.last_time = int(state["last_time"])
        self.first_time = int(state["first_time"])

    def _finish(self, stopped: bool) -> Result:
        """Close the open position at the last close, as at the end of a backtest; report all."""
        account, times, tf = self.account, self.times, self.tf
        if times and self.last_closes is not None:
            end_time = self.last_time + tf
            account.close_all(self.last_closes, end_time)
            self.values[-1] = account.cash
            self.unsent.append((end_time, account.cash))
        self._report()
        metrics = self._metrics()
        self.sink.on_metrics(metrics)
        self.sink.on_log(
            f"{'Stopped' if stopped else 'Finished'}: {self.candles:,} candles, "
            f"{metrics['trade_count']} trades, PnL {metrics['total_pnl']:.8g} {account.currency}."
        )
        chart: list[tuple[int, float]] = []
        if times:
            t_arr = np.asarray(times, dtype=np.int64)
            chart = downsample(t_arr, np.asarray(self.values), bucket_size(len(times)))
            chart.append((self.last_time + tf, account.cash))
        return Result(
            trades=list(account.trades),
            metrics=metrics,
            equity=chart,
            stopped=stopped,
            candles=self.candles,
            currency=account.currency,
            first_time=self.first_time,
            last_time=self.last_time,
        )


def run_live(
    config: RunConfig,
    feed: Iterable[Any],
    sink: Sink,
    clock: Callable[[], float],
    *,
    report_every: float,
    stop_check_every: float,
    metrics_every: float,
    resume: dict[str, Any] | None = None,
    resume_trades: list[Trade] | None = None,
    funding: Any = None,
    trade_from: int | None = None,
) -> Result:
    """Paper-trade `config` on a live feed until the sink says stop, the feed ends, or
    a candle opens at or after `range_end` (when set). With `resume` (a checkpoint the sink
    was given) and the trades reported before it, the run goes on from there: the feed should
    start with the candle after the checkpoint's `last_time`.

    The feed yields None (a tick while waiting; at least once a second) or the newly closed
    candles: a Candles (one market) or a list of Candles in market order. Closed trades are
    reported as they close; metrics mark the open position to market. On stop the open
    position is closed at the last close, as at the end of a backtest.
    """
    strategy = make_strategy(config)
    tf = timeframe_seconds(config.timeframe)
    live = _LiveRun(
        config,
        strategy,
        tf,
        sink,
        clock,
        report_every=report_every,
        stop_check_every=stop_check_every,
        metrics_every=metrics_every,
        funding=funding,
        trade_from=trade_from,
    )
    if resume is not None:
        live.restore(resume, resume_trades or [])
    return live.run(feed)
