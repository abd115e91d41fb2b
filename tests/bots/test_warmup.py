"""Warm-up: a backtest reads its strategy's startup_candles before range_start (not traded,
not in the metrics), so a backtest from T decides from T on exactly as one started 30 days
earlier, on every path (compiled rules, per candle, a grid) and from any feed (an exchange
asked for the history, or candles handed over with it)."""

from __future__ import annotations

import pytest
from conftest import T0

from bots import runner
from bots.candles import TIMEFRAMES
from bots.exchanges.sim import SimExchange
from bots.runner import ListSink, RunConfig, run_backtest, run_grid
from bots.runners.config import make_strategy

DAY = 86_400
sim = SimExchange()

# (strategy, params, market, timeframe, initial balance): sizes far below the balance, so no
# order is ever cut to the margin and both runs trade the same sizes.
CASES = {
    "SmaCross": ("SmaCross", {"n1": 10, "n2": 120, "position_size": 1}, "ETHUSD", "1m", 1_000_000.0),
    "TestBot": ("TestBot", {"threshold": 0.5, "position_size": 100}, "XBTUSD", "1m", 10.0),
}
END = T0 + 3 * DAY


def _config(case: str, start: int) -> RunConfig:
    strategy, params, market, timeframe, balance = CASES[case]
    return RunConfig.for_market(
        strategy,
        params,
        market,
        timeframe=timeframe,
        range_start=start,
        range_end=END,
        initial_balance=balance,
        fee_bps=5,
    )


def _decisions(trades, since: int) -> list[tuple]:
    return [(t.entry_time, t.side, t.entry_price) for t in trades if t.entry_time >= since]


def _longer(case: str):
    return run_backtest(_config(case, T0 - 30 * DAY), sim, ListSink())


def _start_before_a_signal(case: str, longer) -> tuple[int, int]:
    """(T, first entry from T): T a few candles before an entry of the longer run, with that
    run flat at T for TestBot (its decisions depend on the position) and, for SmaCross (always
    in the market), on its first reversal after T. Within the strategy's own window of T, so a
    run without history before T could not see that signal."""
    tf = TIMEFRAMES[CASES[case][3]]
    trades = [t for t in longer.trades if t.entry_time > T0 + DAY]
    for before, trade in zip(trades, trades[1:], strict=False):
        start = trade.entry_time - 4 * tf
        if before.exit_time <= start if case == "TestBot" else before.entry_time < start:
            return start, trade.entry_time
    pytest.fail("no entry of the longer run to start before")


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_backtest_from_t_decides_as_a_longer_one_from_its_first_signal(case):
    longer = _longer(case)
    start, first = _start_before_a_signal(case, longer)
    config = _config(case, start)
    assert make_strategy(config).startup_candles() > (first - start) // TIMEFRAMES[config.timeframe]

    shorter = run_backtest(config, sim, ListSink())

    assert shorter.trades and shorter.trades[0].entry_time == first
    assert _decisions(shorter.trades, first) == _decisions(longer.trades, first)
    assert shorter.equity[0][0] >= start  # the warm-up is not in the curve


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_history_handed_with_the_candles_warms_up_every_path(case, monkeypatch):
    """The worker's way: the candles from range_start - startup_candles come in the feed."""
    longer = _longer(case)
    start, first = _start_before_a_signal(case, longer)
    config = _config(case, start)
    tf = TIMEFRAMES[config.timeframe]
    warmup = make_strategy(config).startup_candles()
    feed = {config.market: sim.fetch_candles(config.market, config.timeframe, start - warmup * tf, END)}
    expected = _decisions(longer.trades, first)

    compiled = run_backtest(config, feed, ListSink())
    (grid,) = run_grid([config], feed)
    monkeypatch.setattr(runner, "COMPILED_RULES", False)
    per_candle = run_backtest(config, feed, ListSink())

    for result in (compiled, grid, per_candle):
        assert _decisions(result.trades, first) == expected
        assert result.trades[0].entry_time == first
        assert result.candles == (END - start) // tf  # only the range's candles count


def test_more_history_than_needed_changes_nothing_and_none_still_runs():
    config = _config("SmaCross", T0 + DAY)
    tf = TIMEFRAMES[config.timeframe]
    warmup = make_strategy(config).startup_candles()
    assert warmup == 120  # SmaCross: its slow average's candles before the first traded one

    def fed(history: int):
        candles = sim.fetch_candles(config.market, config.timeframe, config.range_start - history * tf, END)
        return run_backtest(config, {config.market: candles}, ListSink())

    exact, more = fed(warmup), fed(10 * warmup)
    assert exact.trades and more.trades == exact.trades
    assert more.equity == exact.equity

    bare = fed(0)  # nothing before range_start (an archive that starts there): it still runs
    assert bare.candles == exact.candles
    first_possible = config.range_start + warmup * tf
    assert bare.trades and bare.trades[0].entry_time > first_possible
