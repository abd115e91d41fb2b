"""Fills at the next open with slippage and fees, reversals, the end-of-run close, inverse PnL."""

from __future__ import annotations

import pytest
from conftest import T0, make_candles

from bots.markets import KNOWN_MARKETS, MarketSpec
from bots.runner import ListSink, RunConfig, run_backtest

LINEAR = MarketSpec("TESTUSD", "TEST", "USD", "USD", "linear", 0.01)
XBTUSD = KNOWN_MARKETS["XBTUSD"]


def backtest(candles, plan, *, market=LINEAR, fee_bps=10.0, slippage_bps=20.0, balance=10_000.0):
    config = RunConfig(
        strategy="Scripted",
        params={"plan": {str(T0 + 60 * i): size for i, size in plan.items()}},
        markets=[market],
        range_start=None,
        range_end=None,
        initial_balance=balance,
        fee_bps=fee_bps,
        slippage_bps=slippage_bps,
        strategy_packages=("scripted_strategies",),
    )
    return run_backtest(config, [candles], ListSink())


def test_it_fills_at_the_next_open_against_the_trader_and_pays_fees():
    candles = make_candles([100, 101, 102, 104, 103], [100.5, 101.5, 103, 103.5, 104])
    result = backtest(candles, {0: 2, 2: 0})
    (trade,) = result.trades
    entry = 101 * 1.002  # candle 1's open, bought: moved up by 20 bps
    exit_ = 104 * 0.998  # candle 3's open, sold: moved down
    fee = 2 * entry * 0.001 + 2 * exit_ * 0.001
    assert trade.side == "long"
    assert (trade.entry_time, trade.exit_time) == (T0 + 60, T0 + 180)
    assert trade.entry_price == pytest.approx(entry)
    assert trade.exit_price == pytest.approx(exit_)
    assert trade.entry_size == trade.exit_size == 2
    assert trade.fee == pytest.approx(fee)
    assert trade.realized_pnl == pytest.approx(2 * (exit_ - entry) - fee)
    assert result.metrics["final_equity"] == pytest.approx(10_000 + 2 * (exit_ - entry) - fee)
    assert result.metrics["fees_paid"] == pytest.approx(fee)
    assert result.metrics["currency"] == "USD"


def test_a_reversal_closes_the_trade_and_opens_the_other_side():
    candles = make_candles([100, 110, 120, 90, 95], [105, 115, 118, 92, 96])
    result = backtest(candles, {0: 1, 1: -1}, fee_bps=0, slippage_bps=0)
    long, short = result.trades
    assert (long.side, long.entry_price, long.exit_price) == ("long", 110, 120)
    assert long.realized_pnl == pytest.approx(10)
    assert (short.side, short.entry_time, short.entry_price) == ("short", T0 + 120, 120)
    # Still short at the end: closed at the last candle's close, at that candle's close time.
    assert (short.exit_price, short.exit_time) == (96, T0 + 5 * 60)
    assert short.realized_pnl == pytest.approx(24)
    assert result.metrics["trade_count"] == 2
    assert result.metrics["total_pnl"] == pytest.approx(34)


def test_the_end_of_run_close_pays_the_fee_but_no_slippage():
    candles = make_candles([100, 100, 100], [100, 100, 110])
    result = backtest(candles, {0: 1}, fee_bps=10, slippage_bps=50)
    (trade,) = result.trades
    assert trade.entry_price == pytest.approx(100.5)
    assert trade.exit_price == 110
    assert trade.fee == pytest.approx(0.1005 + 0.110)
    assert result.metrics["total_pnl"] == pytest.approx(110 - 100.5 - 0.1005 - 0.110)
    assert result.equity[-1] == (T0 + 180, pytest.approx(10_000 + 110 - 100.5 - 0.2105))


def test_an_order_after_the_last_candle_is_never_filled():
    candles = make_candles([100, 101], [100, 101])
    assert backtest(candles, {1: 5}).trades == []


def test_inverse_pnl_is_in_the_base_currency():
    candles = make_candles([50_000, 50_000, 55_000, 55_000], [50_000, 50_000, 55_000, 55_000])
    result = backtest(candles, {0: 1000, 1: 0}, market=XBTUSD, fee_bps=7.5, slippage_bps=0, balance=1.0)
    (trade,) = result.trades
    gross = 1000 * (1 / 50_000 - 1 / 55_000)
    fee = (1000 / 50_000 + 1000 / 55_000) * 0.00075
    assert trade.currency == result.metrics["currency"] == "XBT"
    assert trade.realized_pnl == pytest.approx(gross - fee)
    assert result.metrics["final_equity"] == pytest.approx(1.0 + gross - fee)
    assert result.metrics["return_pct"] == pytest.approx((gross - fee) * 100)


def test_inverse_short_gains_when_price_falls():
    candles = make_candles([40_000, 40_000, 32_000], [40_000, 40_000, 32_000])
    result = backtest(candles, {0: -800, 1: 0}, market=XBTUSD, fee_bps=0, slippage_bps=0, balance=1.0)
    assert result.trades[0].realized_pnl == pytest.approx(-800 * (1 / 40_000 - 1 / 32_000))
    assert result.trades[0].realized_pnl > 0


def test_scaling_in_averages_the_entry_and_scaling_out_splits_the_trade():
    candles = make_candles([100, 100, 110, 120, 130], [100, 100, 110, 120, 130])
    result = backtest(candles, {0: 1, 1: 3, 2: 1}, fee_bps=0, slippage_bps=0)
    part, rest = result.trades
    average = (1 * 100 + 2 * 110) / 3
    assert part.entry_price == pytest.approx(average) and part.exit_size == 2
    assert part.realized_pnl == pytest.approx(2 * (120 - average))
    assert rest.exit_price == 130 and rest.exit_size == 1
    assert rest.realized_pnl == pytest.approx(130 - average)


def test_equity_is_marked_to_market_at_each_close():
    candles = make_candles([100, 100, 100, 100], [100, 90, 120, 100])
    result = backtest(candles, {0: 1}, fee_bps=0, slippage_bps=0, balance=100.0)
    # Long 1 from candle 1's open (100): equity 90, 120, 100 -> drawdown from 120 to 100.
    assert [v for _, v in result.equity][:4] == [100.0, 90.0, 120.0, 100.0]
    assert result.metrics["max_drawdown"] == pytest.approx(20 / 120 * 100)
    assert result.metrics["exposure_pct"] == pytest.approx(75.0)


def test_a_leg_settling_in_another_currency_is_converted_at_the_linking_price():
    xbt = make_candles([50_000, 50_000, 40_000], [50_000, 50_000, 40_000])
    eth = make_candles([2_000, 2_000, 2_100], [2_000, 2_000, 2_100])
    config = RunConfig(
        strategy="ScriptedPair",
        params={"plan": {str(T0): [0, 2], str(T0 + 60): [0, 0]}},
        markets=[XBTUSD, KNOWN_MARKETS["ETHUSD"]],
        initial_balance=1.0,
        fee_bps=0,
        slippage_bps=0,
        strategy_packages=("scripted_strategies",),
    )
    result = run_backtest(config, [xbt, eth], ListSink())
    (trade,) = result.trades
    assert trade.currency == "USD" and trade.realized_pnl == pytest.approx(200.0)
    # The account is in XBT: $200 at the XBTUSD price of the exit (40,000) is 0.005 XBT.
    assert trade.run_pnl == pytest.approx(0.005)
    assert result.metrics["currency"] == "XBT"
    assert result.metrics["final_equity"] == pytest.approx(1.005)
