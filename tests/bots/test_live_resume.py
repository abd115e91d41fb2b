"""A live run interrupted and resumed from its checkpoints makes the uninterrupted run's trades."""

from __future__ import annotations

import json

import pytest
from conftest import T0

from bots.candles import TIMEFRAMES
from bots.exchanges.sim import SimExchange
from bots.runner import ListSink, RunConfig, make_strategy, run_backtest
from bots.runners import live

sim = SimExchange()


class Killed(Exception):
    """The worker died right after a checkpoint was written."""


class KillingSink(ListSink):
    def __init__(self, kill_at: int | None):
        super().__init__()
        self.kill_at = kill_at

    def on_checkpoint(self, state):
        # Through JSON, as the checkpoint is stored: nothing may depend on tuples or numpy.
        super().on_checkpoint(json.loads(json.dumps(state)))
        # Killed with an order waiting for the next open and a position open: the hardest point.
        state = self.checkpoints[-1]
        if (
            self.kill_at is not None
            and len(self.checkpoints) >= self.kill_at
            and state["pending"] is not None
            and any(state["account"]["pos"])
        ):
            raise Killed


def per_candle_feed(cfg: RunConfig, after: int | None = None):
    """The session's candles one closed candle at a time (what the live feed yields)."""
    # From the warm-up on, as a live session fetches it (run: trade_from=range_start).
    begin = cfg.range_start - make_strategy(cfg).startup_candles() * TIMEFRAMES[cfg.timeframe]
    legs = [sim.candles(m.symbol, cfg.timeframe, begin, cfg.range_end) for m in cfg.markets]
    for k in range(len(legs[0])):
        if after is not None and legs[0].time[k] <= after:
            continue
        yield [leg[k : k + 1] for leg in legs]


def run(cfg, feed, sink, resume=None, trades=None):
    return live.run_live(
        cfg,
        feed,
        sink,
        lambda: 0.0,
        report_every=0.0,
        stop_check_every=1.0,
        metrics_every=1e9,
        resume=resume,
        resume_trades=trades,
        trade_from=cfg.range_start,
    )


CASES = [
    ("TestBot", {"threshold": 0.3, "position_size": 100}, "XBTUSD", "1s", 1.0),
    ("SmaCross", {"n1": 5, "n2": 12, "position_size": 2}, "ETHUSD", "1m", 100_000.0),
    (
        "PairTradeBot",
        {"spread_threshold": 1.5, "lookback": 30, "position_size": 100},
        "XBTUSD+ETHUSD",
        "5m",
        1.0,
    ),
]


@pytest.mark.parametrize("strategy,params,market,timeframe,balance", CASES)
def test_a_run_killed_twice_and_resumed_makes_the_uninterrupted_trades(
    strategy, params, market, timeframe, balance
):
    tf = TIMEFRAMES[timeframe]
    cfg = RunConfig.for_market(
        strategy,
        params,
        market,
        timeframe=timeframe,
        range_start=T0,
        range_end=T0 + 1500 * tf,
        initial_balance=balance,
        fee_bps=7.5,
        slippage_bps=2,
    )
    backtest = run_backtest(cfg, sim, ListSink())
    assert len(backtest.trades) > 10

    trades: list = []
    state = None
    for kill_at in (400, 700, None):  # killed after the 400th and (resumed) the 700th checkpoint
        sink = KillingSink(kill_at)
        after = state["last_time"] if state else None
        try:
            result = run(cfg, per_candle_feed(cfg, after), sink, resume=state, trades=list(trades))
        except Killed:
            state = sink.checkpoints[-1]
            trades = trades + sink.trades  # what was reported up to the checkpoint
            assert len(trades) == state["trades"]
            continue
        trades = trades + sink.trades
    assert trades == backtest.trades
    assert result.trades == backtest.trades
    assert result.candles == backtest.candles == 1500
    assert result.metrics["trade_count"] == backtest.metrics["trade_count"]
    assert result.metrics["total_pnl"] == pytest.approx(backtest.metrics["total_pnl"])
    assert result.metrics["win_rate"] == pytest.approx(backtest.metrics["win_rate"])


def test_a_resumed_run_ignores_candles_from_before_its_checkpoint():
    cfg = RunConfig.for_market(
        "SmaCross", {"n1": 5, "n2": 12, "position_size": 2}, "ETHUSD", range_start=T0, range_end=T0 + 600 * 60
    )
    sink = KillingSink(300)
    with pytest.raises(Killed):
        run(cfg, per_candle_feed(cfg), sink)
    state, before = sink.checkpoints[-1], list(sink.trades)
    again = KillingSink(None)
    result = run(
        cfg, per_candle_feed(cfg, after=state["last_time"] - 50 * 60), again, resume=state, trades=before
    )
    assert result.trades == run_backtest(cfg, sim, ListSink()).trades
