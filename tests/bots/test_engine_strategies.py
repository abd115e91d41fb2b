"""The built-in strategies' signals on crafted candles."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import T0, from_closes, make_candles

from bots.markets import MarketSpec
from bots.runner import ListSink, RunConfig, run_backtest
from bots.strategies.base import ParamsError
from bots.strategies.pairtrade import PairTradeBot
from bots.strategies.smacross import SmaCross
from bots.strategies.testbot import TestBot

A = MarketSpec("AAAUSD", "AAA", "USD", "USD")
B = MarketSpec("BBBUSD", "BBB", "USD", "USD")


def backtest(strategy, params, legs, markets=(A,)):
    config = RunConfig(
        strategy=strategy,
        params=params,
        markets=list(markets),
        fee_bps=0,
        slippage_bps=0,
        initial_balance=10_000,
    )
    return run_backtest(config, list(legs), ListSink())


def range_candles(closes):
    """Candles spanning 90..110 (high/low) so s = (close - 100) / 10."""
    closes = np.asarray(closes, dtype=float)
    return make_candles(closes, closes, highs=np.full(len(closes), 110.0), lows=np.full(len(closes), 90.0))


def test_testbot_s_is_the_position_in_the_20_candle_range():
    candles = range_candles([100.0] * 19 + [95.0, 104.0])
    s = TestBot({"threshold": 0.5, "position_size": 1}).precompute([candles])["s"]
    assert np.isnan(s[:19]).all()  # no warm-up: 20 in-range candles first
    assert s[19] == pytest.approx(-0.5) and s[20] == pytest.approx(0.4)
    flat = make_candles([5.0] * 25, [5.0] * 25)
    assert (TestBot({"threshold": 0.5, "position_size": 1}).precompute([flat])["s"][19:] == 0).all()


def test_testbot_buys_low_in_the_range_and_closes_at_the_middle():
    #        candles 0..18 at the middle, 19 low (s=-0.6), 20-21 still below, 22 back to the middle
    closes = [100.0] * 19 + [94.0, 97.0, 99.0, 100.0, 100.0, 100.0]
    result = backtest("TestBot", {"threshold": 0.5, "position_size": 3}, [range_candles(closes)])
    (trade,) = result.trades
    assert trade.side == "long" and trade.entry_size == 3
    assert trade.entry_time == T0 + 20 * 60 and trade.entry_price == 97.0  # candle 20's open
    assert trade.exit_time == T0 + 23 * 60  # s = 0 at candle 22, out at 23's open


def test_testbot_shorts_high_in_the_range_and_closes_at_the_middle():
    closes = [100.0] * 19 + [106.0, 103.0, 101.0, 99.0, 99.0]
    (trade,) = backtest("TestBot", {"threshold": 0.5, "position_size": 1}, [range_candles(closes)]).trades
    assert trade.side == "short" and trade.entry_time == T0 + 20 * 60
    assert trade.exit_time == T0 + 23 * 60  # s = -0.1 at candle 22


def test_testbot_ignores_moves_inside_the_threshold():
    closes = [100.0] * 19 + [96.0, 104.0, 100.0]
    assert backtest("TestBot", {"threshold": 0.5, "position_size": 1}, [range_candles(closes)]).trades == []


def test_smacross_goes_long_on_a_cross_up_and_reverses_on_a_cross_down():
    closes = [10, 9, 8, 7, 6, 7, 9, 12, 14, 13, 11, 8, 6, 5, 5]
    ind = SmaCross({"n1": 2, "n2": 4, "position_size": 1}).precompute([from_closes(closes)])
    up, down = np.flatnonzero(ind["cross_up"]), np.flatnonzero(ind["cross_down"])
    # fast(2) vs slow(4): at 6 fast=8 > slow=7.25 after fast=6.5 < slow=7 at 5.
    assert up.tolist() == [6] and down.tolist() == [10]
    result = backtest("SmaCross", {"n1": 2, "n2": 4, "position_size": 1}, [from_closes(closes)])
    long, short = result.trades
    assert long.side == "long" and long.entry_time == T0 + 7 * 60 and long.entry_price == 9
    assert long.exit_time == short.entry_time == T0 + 11 * 60 and short.side == "short"
    assert short.exit_price == 5  # closed at the end


def test_smacross_needs_n2_plus_one_candles_before_a_cross():
    # A cross that would show at candle 3 with warm-up data is not seen: slow needs 4 candles
    # and the previous slow one more.
    closes = [5, 4, 3, 9, 10, 11]
    ind = SmaCross({"n1": 1, "n2": 4, "position_size": 1}).precompute([from_closes(closes)])
    assert np.isnan(ind["slow"][:3]).all() and not ind["cross_up"].any()


def test_smacross_rejects_n1_not_below_n2():
    with pytest.raises(ParamsError) as error:
        SmaCross({"n1": 20, "n2": 10, "position_size": 1})
    assert "n2" in error.value.errors


def test_pairtrade_shorts_the_rich_leg_and_closes_when_z_crosses_zero():
    n = 12
    b = np.full(n, 50.0)
    a = np.array([100, 101, 100, 99, 100, 101, 100, 99, 112, 104, 99, 100], dtype=float)
    legs = [from_closes(a), from_closes(b)]
    params = {"spread_threshold": 1.5, "lookback": 8, "position_size": 10}
    z = PairTradeBot(params).precompute(legs)["z"]
    assert np.isnan(z[:7]).all()
    assert z[8] > 1.5 and 0 < z[9] < 1.5 and z[10] < 0
    result = backtest("PairTradeBot", params, legs, markets=(A, B))
    short_a, long_b = sorted(result.trades, key=lambda t: t.market)
    assert (short_a.market, short_a.side, short_a.entry_time) == ("AAAUSD", "short", T0 + 9 * 60)
    assert (long_b.market, long_b.side, long_b.entry_time) == ("BBBUSD", "long", T0 + 9 * 60)
    assert short_a.exit_time == long_b.exit_time == T0 + 11 * 60  # z <= 0 at candle 10
    assert short_a.entry_size == long_b.entry_size == 10


def test_pairtrade_longs_the_cheap_leg_when_z_is_very_negative():
    b = np.full(12, 50.0)
    a = np.array([100, 101, 100, 99, 100, 101, 100, 99, 88, 95, 101, 100], dtype=float)
    params = {"spread_threshold": 1.5, "lookback": 8, "position_size": 1}
    result = backtest("PairTradeBot", params, [from_closes(a), from_closes(b)], markets=(A, B))
    sides = {t.market: t.side for t in result.trades}
    assert sides == {"AAAUSD": "long", "BBBUSD": "short"}


def test_a_strategy_for_two_markets_refuses_one():
    with pytest.raises(ValueError, match="2 market"):
        backtest("PairTradeBot", {"spread_threshold": 2, "lookback": 5}, [from_closes([1, 2, 3])])


def test_the_scraper_never_trades():
    closes = np.linspace(100, 200, 300)
    result = backtest("MarketScraper", {"archive_interval": 5}, [from_closes(closes)])
    assert result.trades == [] and result.metrics["final_equity"] == 10_000
