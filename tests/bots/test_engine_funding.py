"""Funding on perpetual markets: a position held across funding times pays exactly the sum of
rate x value over them (docs/engine.md).

At each funding time T (every 8 h from 00:00 UTC) with t_prev_open < T <= t_open, so at the
open of the candle opening at or first after T and before that candle's fills, each open
position of a perpetual leg pays sign(size) x rate x notional(size, that open) in its settle
currency. trade.funding is what the trade paid (positive = paid), realized_pnl includes it,
and the metrics' funding_paid is the run's total. funding=False, or a market that is not
perpetual, pays nothing.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import T0, make_candles

import bots.runner
from bots.exchanges.sim import SimExchange
from bots.funding import FundingRates, funding_times, sim_rate
from bots.markets import KNOWN_MARKETS, MarketSpec
from bots.runner import ListSink, RunConfig, run_backtest, run_grid

HOUR = 3600
FEE = 0.00075  # fee_bps 7.5
PATHS = ["per-candle", "rules", "compiled"]
ETHUSDT = KNOWN_MARKETS["ETHUSDT"]  # linear, perpetual
XBTUSD = KNOWN_MARKETS["XBTUSD"]  # inverse, perpetual
SPOT = MarketSpec("TESTUSD", "TEST", "USD", "USD", "linear", 0.01, lot_size=0, perpetual=False)
# market, signed size, initial balance, price level
POSITIONS = {
    "linear long": (ETHUSDT, 2.0, 10_000.0, 2_000.0),
    "linear short": (ETHUSDT, -2.0, 10_000.0, 2_000.0),
    "inverse long": (XBTUSD, 1_000.0, 1.0, 50_000.0),
    "inverse short": (XBTUSD, -1_000.0, 1.0, 50_000.0),
}


def hourly(level: float, hours: int = 48):
    """1h candles from T0 (a day boundary) whose opens wander around `level`."""
    i = np.arange(hours + 1, dtype=float)
    prices = level * (1 + 0.05 * np.sin(i / 3.7) + 0.001 * i)
    return make_candles(prices[:-1], prices[1:], tf=HOUR)


def config(market, size, balance, path, *, enter, exit_, timeframe="1h", funding=None, exchange="sim"):
    if path == "per-candle":
        strategy, params = "Scripted", {"plan": {str(enter): size, str(exit_): 0}}
    else:
        strategy, params = "EnterAt", {"at": [enter], "size": size, "exit": exit_}
    return RunConfig(
        strategy=strategy,
        params=params,
        markets=[market],
        exchange=exchange,
        timeframe=timeframe,
        initial_balance=balance,
        fee_bps=FEE * 1e4,
        slippage_bps=0.0,
        leverage=1,
        sizing="units",
        funding=funding,
        strategy_packages=("scripted_strategies", "account_strategies"),
    )


@pytest.fixture
def path(request, monkeypatch):
    monkeypatch.setattr(bots.runner, "COMPILED_RULES", request.param == "compiled")
    return request.param


def paid(market, size, candles, times, rates) -> float:
    """sum over funding times of sign(size) x rate x notional at the open of the candle
    opening at or first after the time."""
    total = 0.0
    for t, rate in zip(times.tolist(), rates.tolist(), strict=True):
        k = int(np.searchsorted(candles.time, t, side="left"))
        total += math.copysign(1.0, size) * rate * market.notional(size, float(candles.open[k]))
    return total


def assert_paid(result, market, size, expected_funding, entry, exit_price):
    (trade,) = result.trades
    assert trade.exit_reason == "signal"
    assert (trade.entry_price, trade.exit_price) == (entry, exit_price)
    gross = market.pnl(size, entry, exit_price)
    fee = (market.notional(size, entry) + market.notional(size, exit_price)) * FEE
    assert trade.fee == pytest.approx(fee, rel=1e-12)
    assert trade.funding == pytest.approx(expected_funding, rel=1e-12, abs=0)
    assert trade.realized_pnl == pytest.approx(gross - fee - expected_funding, rel=1e-12)
    m = result.metrics
    assert m["funding_paid"] == pytest.approx(expected_funding, rel=1e-12, abs=0)
    assert m["final_equity"] == pytest.approx(
        result.metrics["initial_balance"] + trade.realized_pnl, rel=1e-12
    )


@pytest.mark.parametrize("path", PATHS, indirect=True)
@pytest.mark.parametrize("name", list(POSITIONS))
def test_a_position_held_across_funding_times_pays_the_sum_of_rate_times_value(name, path):
    market, size, balance, level = POSITIONS[name]
    candles = hourly(level)
    # Entered at 01:00 (after candle 0 closes), out at the open of 16:00 the next day: it held
    # through 08:00, 16:00, 00:00, 08:00 and is still open at 16:00's open, before the fill.
    enter, exit_ = T0, T0 + 39 * HOUR
    times = funding_times(T0 + HOUR + 1, T0 + 40 * HOUR + 1, 8.0)
    assert times.tolist() == [T0 + h * HOUR for h in (8, 16, 24, 32, 40)]
    rates = sim_rate(market.symbol, times)
    expected = paid(market, size, candles, times, rates)
    assert expected != 0 and all(abs(r) < 0.00011 for r in rates)

    result = run_backtest(config(market, size, balance, path, enter=enter, exit_=exit_), candles, ListSink())
    assert_paid(result, market, size, expected, float(candles.open[1]), float(candles.open[40]))


@pytest.mark.parametrize("path", PATHS, indirect=True)
def test_given_rates_are_charged_at_each_candles_open_sign_by_sign(path):
    """Rates handed to the runner (a mapping symbol -> FundingRates) instead of sim's: big,
    of both signs, so a wrong sign or a missed time shows."""
    market, size, balance, level = POSITIONS["linear long"]
    candles = hourly(level)
    times = np.array([T0 + h * HOUR for h in (8, 16, 24, 32, 40, 48)], dtype=np.int64)
    rates = np.array([0.001, -0.002, 0.0005, 0.003, -0.0001, 0.01])
    given = {market.symbol: FundingRates(times, rates)}
    cfg = config(market, size, balance, path, enter=T0, exit_=T0 + 39 * HOUR)
    result = run_backtest(cfg, candles, ListSink(), funding=given)
    # 48 h is after the exit: five of the six rates apply.
    expected = paid(market, size, candles, times[:5], rates[:5])
    assert_paid(result, market, size, expected, float(candles.open[1]), float(candles.open[40]))


@pytest.mark.parametrize("path", PATHS, indirect=True)
def test_daily_candles_pay_each_funding_time_at_the_next_open(path):
    """With 1d candles the times at 08:00 and 16:00 fall inside a candle: they are paid at the
    next candle's open, together with that day's 00:00."""
    market, size, balance = ETHUSDT, 2.0, 10_000.0
    day = 24 * HOUR
    opens = [2_000, 2_100, 1_900, 2_200, 2_050, 2_000]
    candles = make_candles(opens, opens[1:] + [2_000], tf=day)
    times = funding_times(T0, T0 + 6 * day, 8.0)
    rates = np.linspace(-0.001, 0.002, len(times))
    cfg = config(market, size, balance, path, enter=T0, exit_=T0 + 3 * day, timeframe="1d")
    result = run_backtest(cfg, candles, ListSink(), funding={market.symbol: FundingRates(times, rates)})
    # Held from day 1's open to day 4's open: the times in (day 1, day 4], each paid at the
    # open of the day that follows it (or starts at it).
    held = (times > T0 + day) & (times <= T0 + 4 * day)
    expected = sum(
        rate * market.notional(size, opens[-(-(int(t) - T0) // day)])
        for t, rate in zip(times[held], rates[held], strict=True)
    )
    assert held.sum() == 9
    assert expected == pytest.approx(paid(market, size, candles, times[held], rates[held]))
    assert_paid(result, market, size, expected, 2_100.0, 2_050.0)


def test_the_sim_exchange_feed_pays_sims_rates():
    """A backtest reading the sim exchange (its candles and its fetch_funding)."""
    market, size = ETHUSDT, 1.5
    start, end = T0, T0 + 3 * 24 * HOUR
    sim = SimExchange()
    candles = sim.fetch_candles(market.symbol, "1h", start, end)
    cfg = config(market, size, 10_000.0, "compiled", enter=start, exit_=start + 59 * HOUR)
    cfg.range_start, cfg.range_end = start, end
    result = run_backtest(cfg, sim, ListSink())
    times = funding_times(start + HOUR + 1, start + 60 * HOUR + 1, 8.0)
    assert len(times) == 7  # 08:00, 16:00 and 00:00 from 01:00 on day 0 to 12:00 on day 2
    expected = paid(market, size, candles, times, sim_rate(market.symbol, times))
    assert_paid(result, market, size, expected, float(candles.open[1]), float(candles.open[60]))


def test_a_grid_charges_each_config_its_own_funding():
    market, _, balance, level = POSITIONS["linear long"]
    candles = hourly(level)
    times = funding_times(T0 + HOUR + 1, T0 + 40 * HOUR + 1, 8.0)
    rates = sim_rate(market.symbol, times)
    sizes = [1.0, -3.0, 2.5]
    configs = [config(market, s, balance, "rules", enter=T0, exit_=T0 + 39 * HOUR) for s in sizes]
    results = run_grid(configs, candles)
    for size, result in zip(sizes, results, strict=True):
        expected = paid(market, size, candles, times, rates)
        assert_paid(result, market, size, expected, float(candles.open[1]), float(candles.open[40]))


@pytest.mark.parametrize("path", PATHS, indirect=True)
@pytest.mark.parametrize("case", ["funding off", "not perpetual"])
def test_no_funding_when_it_is_off_or_the_market_is_not_perpetual(case, path):
    market, size, balance, level = POSITIONS["linear long"]
    funding = None
    if case == "funding off":
        funding = False
    else:
        market = SPOT
    candles = hourly(level)
    result = run_backtest(
        config(market, size, balance, path, enter=T0, exit_=T0 + 39 * HOUR, funding=funding),
        candles,
        ListSink(),
    )
    assert_paid(result, market, size, 0.0, float(candles.open[1]), float(candles.open[40]))
    assert result.metrics["funding_paid"] == 0.0
