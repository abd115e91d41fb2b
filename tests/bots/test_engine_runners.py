"""Runners: determinism, live/backtest parity, stopping within a second with nothing lost."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest
from conftest import T0

from bots import archive, runner
from bots.candles import TIMEFRAMES
from bots.exchanges.sim import SimExchange
from bots.runner import ListSink, NoDataError, RunConfig, make_strategy, run_backtest, run_live, run_scraper

sim = SimExchange()


class FakeClock:
    """Wall clock for the live feed that advances only when the feed sleeps."""

    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.001)


def config(strategy, params, market, timeframe="1m", candles=3000, **kwargs):
    end = T0 + candles * TIMEFRAMES[timeframe]
    balance = 1.0 if market.startswith("XBT") else 100_000.0
    return RunConfig.for_market(
        strategy,
        params,
        market,
        timeframe=timeframe,
        range_start=T0,
        range_end=end,
        initial_balance=balance,
        **kwargs,
    )


def warm_start(cfg) -> int:
    """Where a live feed starts so the run has the backtest's warm-up: startup_candles before
    range_start (the candles before it are warm-up: run_live(..., trade_from=range_start))."""
    return cfg.range_start - make_strategy(cfg).startup_candles() * TIMEFRAMES[cfg.timeframe]


CASES = [
    ("TestBot", {"threshold": 0.3, "position_size": 100}, "XBTUSD", "1s"),
    ("SmaCross", {"n1": 5, "n2": 12, "position_size": 2}, "ETHUSD", "1m"),
    ("PairTradeBot", {"spread_threshold": 1.5, "lookback": 30, "position_size": 100}, "XBTUSD+ETHUSD", "5m"),
]


@pytest.mark.parametrize("strategy,params,market,timeframe", CASES)
def test_the_same_config_gives_the_same_trades(strategy, params, market, timeframe):
    cfg = config(strategy, params, market, timeframe, fee_bps=7.5, slippage_bps=2)
    first = run_backtest(cfg, sim, ListSink())
    second = run_backtest(cfg, SimExchange(), ListSink())
    assert len(first.trades) > 10
    assert first.trades == second.trades and first.metrics == second.metrics


@pytest.mark.parametrize("strategy,params,market,timeframe", CASES)
def test_a_live_session_makes_the_backtests_trades(strategy, params, market, timeframe):
    """The live feed (a fake wall clock, caught up then candle by candle) against a backtest."""
    cfg = config(strategy, params, market, timeframe, fee_bps=7.5, slippage_bps=2)
    backtest = run_backtest(cfg, sim, ListSink())
    tf = TIMEFRAMES[timeframe]
    clock = FakeClock(T0 + 2000 * tf + 0.3)  # 2,000 candles in the past, the rest live
    feed = sim.live(
        [m.symbol for m in cfg.markets],
        timeframe,
        start=warm_start(cfg),
        clock=clock,
        sleep=clock.sleep,
        tick=tf / 3,
    )
    sink = ListSink()
    live = run_live(cfg, feed, sink, trade_from=T0)
    assert len(backtest.trades) > 5
    assert live.trades == backtest.trades == sink.trades
    assert live.metrics == backtest.metrics
    assert not live.stopped


def test_a_live_session_on_the_real_clock_makes_the_backtests_trades():
    """TestBot on 1 s sim candles: 22 s caught up from the past, then ~8 s of real time."""
    start = math.floor(time.time()) - 22
    end = start + 30
    params = {"threshold": 0.05, "position_size": 100}
    cfg = RunConfig.for_market(
        "TestBot", params, "XBTUSD", timeframe="1s", range_start=start, range_end=end, initial_balance=1.0
    )
    feed = sim.live(["XBTUSD"], "1s", start=warm_start(cfg))
    sink = ListSink()
    live = run_live(cfg, feed, sink, trade_from=start)
    assert time.time() >= end + 1  # the last candle closed in real time
    backtest = run_backtest(cfg, sim, ListSink())
    assert live.candles == backtest.candles == 30
    assert backtest.trades and live.trades == backtest.trades
    assert live.metrics == backtest.metrics


def test_a_backtest_stops_at_a_chunk_and_reports_everything_up_to_it():
    cfg = config("SmaCross", {"n1": 5, "n2": 12, "position_size": 1}, "ETHUSD", candles=300_000)
    sink = ListSink(stop_when=lambda s: s.stop_checks >= 1)
    result = run_backtest(cfg, sim, sink)
    assert result.stopped and 0 < result.candles < 300_000
    assert sink.progress[-1] == (result.candles, 300_000)
    assert sink.trades == result.trades and len(result.trades) > 100
    assert result.trades[-1].exit_time == T0 + result.candles * 60  # closed at the stop
    assert sink.equity[-1] == (T0 + result.candles * 60, pytest.approx(result.metrics["final_equity"]))
    assert sink.metrics[-1] == result.metrics
    assert result.metrics["trade_count"] == len(result.trades)


class TimedSink(ListSink):
    """Notes, on `clock`, when progress arrives and when stop was asked for."""

    def __init__(self, stop_after: float, clock):
        super().__init__(stop_when=lambda s: clock() >= s.stop_at)
        self.clock = clock
        self.stop_at = clock() + stop_after
        self.progress_times: list[float] = []

    def on_progress(self, done, total):
        super().on_progress(done, total)
        self.progress_times.append(self.clock())


class TickingClock:
    """A clock that moves on by `step` seconds each time it is read: the runner's own reads
    are its time, so "every second" is counted in its work, not in this machine's load."""

    def __init__(self, step: float):
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_a_slow_backtest_hears_stop_within_a_second():
    """A per-candle strategy (no rules) is slow; progress comes every second and so does stop."""
    cfg = config("Slow", {}, "ETHUSD", candles=400_000, strategy_packages=("slow_strategy",))
    candles = sim.fetch_candles("ETHUSD", "1m", T0, T0 + 400_000 * 60)
    clock = TickingClock(step=0.001)  # one read per 256 candles: ~256k candles a second
    sink = TimedSink(stop_after=0.3, clock=clock)
    began = clock()
    result = run_backtest(cfg, candles, sink, clock=clock)
    assert result.stopped and result.candles < 400_000
    assert clock() - sink.stop_at < 1.0
    assert np.diff([began] + sink.progress_times).max() < 1.0
    assert sink.trades == result.trades and len(result.trades) > 100
    assert sink.progress[-1][0] == result.candles


def test_a_live_session_stops_within_a_second_and_reports_its_trades():
    params = {"threshold": 0.05, "position_size": 100}
    start = T0
    clock = FakeClock(start + 60.5)  # a minute of 1s candles to catch up on, then live
    cfg = RunConfig.for_market(
        "TestBot", params, "XBTUSD", timeframe="1s", range_start=start, initial_balance=1.0
    )
    sink = TimedSink(stop_after=1.5, clock=clock)
    feed = sim.live(["XBTUSD"], "1s", start=start, clock=clock, sleep=clock.sleep)
    result = run_live(cfg, feed, sink, clock=clock)
    assert result.stopped and clock() - sink.stop_at < 1.0
    assert np.diff(sink.progress_times).max() < 1.0
    assert result.candles >= 60 and result.trades and sink.trades == result.trades
    assert sink.equity[-1][1] == pytest.approx(result.metrics["final_equity"])
    assert sink.metrics[-1]["trade_count"] == len(result.trades)


def test_live_metrics_mark_the_open_position(monkeypatch):
    monkeypatch.setattr(runner, "LIVE_METRICS_EVERY", 0.0)
    monkeypatch.setattr(runner, "REPORT_EVERY", 0.0)
    cfg = config("SmaCross", {"n1": 2, "n2": 5, "position_size": 1}, "ETHUSD", candles=400, fee_bps=0)
    seen = []

    class Sink(ListSink):
        def on_metrics(self, metrics):
            super().on_metrics(metrics)
            seen.append((metrics, sum(t.run_pnl for t in self.trades)))

    sink = Sink(stop_when=lambda s: len(s.metrics) >= 50)
    clock = FakeClock(T0 + 400 * 60 + 10)
    run_live(cfg, sim.live(["ETHUSD"], "1m", start=T0, clock=clock, sleep=clock.sleep), sink)
    open_marks = [(m, closed) for m, closed in seen[:-1] if m["unrealized_pnl"] != 0.0]
    assert len(open_marks) > 10
    for metrics, closed in open_marks:
        # Always in the market: equity = balance + closed trades + the open position's mark.
        assert metrics["total_pnl"] == pytest.approx(closed + metrics["unrealized_pnl"], abs=1e-9)
        assert metrics["final_equity"] == pytest.approx(100_000 + metrics["total_pnl"])


def test_a_range_without_data_fails_clearly():
    cfg = config("TestBot", {"threshold": 0.5, "position_size": 1}, "XBTUSD")
    with pytest.raises(NoDataError, match="No 1m candles for XBTUSD"):
        run_backtest(cfg, sim.fetch_candles("XBTUSD", "1m", T0 - 600, T0), ListSink())


def test_the_scraper_archives_the_live_feed_and_stops(tmp_path):
    start = math.floor(time.time()) - 30
    cfg = RunConfig.for_market(
        "MarketScraper", {"archive_interval": 1}, "XBTUSD+ETHUSD", timeframe="1s", range_start=start
    )
    stop = threading.Event()
    sink = ListSink(stop_when=lambda s: stop.is_set())
    threading.Timer(1.2, stop.set).start()
    result = run_scraper(cfg, sim.live(["XBTUSD", "ETHUSD"], "1s", start=start), sink, tmp_path)
    assert result.stopped and result.metrics["data_points"] >= 60
    stored = archive.load(tmp_path, "sim", "XBTUSD", "1s")
    assert len(stored) >= 30 and stored.equals(
        sim.fetch_candles("XBTUSD", "1s", start, int(stored.time[-1]) + 1)
    )
    assert any("Archived" in line for line in sink.logs)


def test_the_config_hash_covers_the_config():
    a = config("TestBot", {"threshold": 0.5, "position_size": 1}, "XBTUSD")
    b = config("TestBot", {"position_size": 1, "threshold": 0.5}, "XBTUSD")
    c = config("TestBot", {"threshold": 0.6, "position_size": 1}, "XBTUSD")
    assert a.config_hash() == b.config_hash() != c.config_hash()
    assert len(a.config_hash()) == 12


def test_a_per_candle_strategy_also_trades_the_same_live():
    cfg = config("Slow", {}, "SOLUSD", candles=600, strategy_packages=("slow_strategy",))
    backtest = run_backtest(cfg, sim, ListSink())
    clock = FakeClock(T0 + 600 * 60 + 1)
    feed = sim.live(["SOLUSD"], "1m", start=warm_start(cfg), clock=clock, sleep=clock.sleep)
    live = run_live(cfg, feed, ListSink(), trade_from=T0)
    assert len(backtest.trades) > 50 and live.trades == backtest.trades


def test_the_live_feed_retries_a_failing_exchange_then_gives_up():
    class Flaky(SimExchange):
        failures = 2

        def fetch_candles(self, symbol, timeframe, start, end):
            if self.failures:
                self.failures -= 1
                raise OSError("connection reset")
            return super().fetch_candles(symbol, timeframe, start, end)

    clock = FakeClock(T0 + 10 * 60 + 1)
    items = Flaky().live(["XBTUSD"], "1m", start=T0, clock=clock, sleep=clock.sleep)
    first = next(item for item in items if item is not None)
    assert first[0].time[0] == T0 and len(first[0]) == 10
    assert clock.now > T0 + 10 * 60 + 5  # it waited before retrying

    hopeless = Flaky()
    hopeless.failures = 100
    with pytest.raises(OSError):
        for _ in hopeless.live(["XBTUSD"], "1m", start=T0, clock=clock, sleep=clock.sleep):
            pass
