"""Sharpe, Sortino, Calmar and max drawdown equal empyrical-reloaded's on the same daily returns.

The daily returns are made here with pandas (each UTC day's last equity, the initial balance
first), independently of bots.metrics.daily_returns, and handed to empyrical with 365 days a
year; compute_metrics must give the same numbers within 1e-12 relative.
"""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pandas as pd
import pytest
from conftest import T0, make_candles

from bots.markets import MarketSpec
from bots.metrics import compute_metrics, daily_returns, max_drawdown_pct
from bots.runner import ListSink, RunConfig, run_backtest

DAY = 86_400
YEAR = 365


def metrics(times, equity, initial):
    return compute_metrics(
        trades=[],
        times=times,
        equity=equity,
        initial_balance=initial,
        currency="USD",
        fees_paid=0.0,
        exposed_candles=0,
        candles=len(times),
    )


def reference_returns(times, equity, initial) -> np.ndarray:
    """Each UTC day's last equity after the initial balance, as simple returns, until equity
    first reaches 0 (the run stopped there)."""
    series = pd.Series(np.asarray(equity, dtype=float), index=pd.to_datetime(np.asarray(times), unit="s"))
    zero = np.flatnonzero(series.to_numpy() <= 0)
    if len(zero):
        series = series.iloc[: zero[0] + 1]
    closes = series.groupby(series.index.floor("D")).last().to_numpy()
    values = np.concatenate([[initial], closes])
    return values[1:] / values[:-1] - 1.0


def expected(returns):
    """empyrical's four numbers, NaN and infinity as None (the engine reports them so)."""

    def clean(x):
        return float(x) if math.isfinite(x) else None

    return {
        "sharpe": clean(empyrical.sharpe_ratio(returns, annualization=YEAR)),
        "sortino": clean(empyrical.sortino_ratio(returns, annualization=YEAR)),
        "calmar": clean(empyrical.calmar_ratio(returns, annualization=YEAR)),
        "max_drawdown": -float(empyrical.max_drawdown(returns)) * 100.0,
    }


def random_walk(seed, days, per_day, drift=0.0, vol=0.02, initial=10_000.0):
    rng = np.random.default_rng(seed)
    n = days * per_day
    steps = rng.normal(drift / per_day, vol / math.sqrt(per_day), n)
    times = T0 + (DAY // per_day) * np.arange(n, dtype=np.int64)
    return times, initial * np.exp(np.cumsum(steps)), initial


def assert_close(got, want):
    for key in ("sharpe", "sortino", "calmar"):
        if want[key] is None:
            assert got[key] is None, key
        else:
            assert got[key] == pytest.approx(want[key], rel=1e-12, abs=0), key


@pytest.mark.parametrize(
    ("seed", "days", "per_day", "drift"),
    [(1, 60, 24, 0.0), (2, 200, 24, 0.002), (3, 30, 1440, -0.003), (4, 400, 1, 0.001), (5, 3, 24, 0.0)],
)
def test_ratios_equal_empyricals_on_random_walks(seed, days, per_day, drift):
    times, equity, initial = random_walk(seed, days, per_day, drift)
    returns = reference_returns(times, equity, initial)
    assert len(returns) == days
    assert daily_returns(times, equity, initial) == pytest.approx(returns, rel=1e-12)
    got, want = metrics(times, equity, initial), expected(returns)
    assert want["sharpe"] is not None and want["sortino"] is not None and want["calmar"] is not None
    assert_close(got, want)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_on_daily_candles_the_max_drawdown_is_empyricals_too(seed):
    times, equity, initial = random_walk(seed, 300, 1, 0.0, vol=0.05)
    returns = reference_returns(times, equity, initial)
    got, want = metrics(times, equity, initial), expected(returns)
    assert want["max_drawdown"] > 10  # a walk with a real drawdown
    assert got["max_drawdown"] == pytest.approx(want["max_drawdown"], rel=1e-12)
    assert_close(got, want)


def test_an_hourly_curves_daily_drawdown_is_empyricals():
    times, equity, initial = random_walk(21, 90, 24, 0.0)
    returns = reference_returns(times, equity, initial)
    days = times // DAY
    closes = equity[np.flatnonzero(np.r_[np.diff(days) != 0, True])]
    assert max_drawdown_pct(closes, initial) == pytest.approx(expected(returns)["max_drawdown"], rel=1e-12)


def test_a_curve_that_goes_to_zero_stops_there_with_a_full_drawdown():
    times, equity, initial = random_walk(31, 40, 24, 0.0)
    broke = 20 * 24 + 5  # liquidated on day 20; the rest of the run's equity is 0
    equity[broke:] = 0.0
    returns = reference_returns(times, equity, initial)
    assert len(returns) == 21 and returns[-1] == -1.0
    got, want = metrics(times, equity, initial), expected(returns)
    assert got["max_drawdown"] == 100.0 == want["max_drawdown"]
    assert got["return_pct"] == -100.0
    assert want["calmar"] == pytest.approx(-1.0)  # CAGR -100 % over a 100 % drawdown
    assert want["sharpe"] is not None and want["sortino"] is not None
    assert_close(got, want)
    # The days after the money ran out are not returns (0 / 0): the ratios are the same as a
    # run that ended on the day it went broke.
    assert_close(metrics(times[: broke + 1], equity[: broke + 1], initial), want)


def test_a_flat_curve_has_no_ratios():
    times = T0 + 3600 * np.arange(24 * 10, dtype=np.int64)
    equity = np.full(len(times), 10_000.0)
    returns = reference_returns(times, equity, 10_000.0)
    want = expected(returns)
    assert want["sharpe"] is None and want["sortino"] is None and want["calmar"] is None
    got = metrics(times, equity, 10_000.0)
    assert (got["sharpe"], got["sortino"], got["calmar"], got["max_drawdown"]) == (None, None, None, 0.0)


def test_a_curve_that_only_rises_has_a_sharpe_but_no_sortino_or_calmar():
    times = T0 + DAY * np.arange(30, dtype=np.int64)
    equity = 10_000.0 * np.cumprod(1 + np.linspace(0.001, 0.01, 30))
    returns = reference_returns(times, equity, 10_000.0)
    got, want = metrics(times, equity, 10_000.0), expected(returns)
    assert want["sharpe"] is not None and want["sortino"] is None and want["calmar"] is None
    assert_close(got, want)


def test_one_day_has_no_sharpe_or_sortino_but_a_calmar_when_it_fell():
    times = T0 + 3600 * np.arange(24, dtype=np.int64)
    equity = np.linspace(10_000.0, 9_990.0, 24)
    returns = reference_returns(times, equity, 10_000.0)
    got, want = metrics(times, equity, 10_000.0), expected(returns)
    assert want["sharpe"] is None and want["sortino"] is None
    assert_close(got, want)


def test_a_liquidated_backtests_ratios_are_empyricals_on_its_equity_until_it_stopped():
    """A 10x long liquidated on its fourth day of hourly candles: the runner's metrics are
    empyrical's on the daily returns of its equity up to the liquidation."""
    i = np.arange(24 * 6 + 1, dtype=float)
    prices = 100 - 0.09 * i + 1.5 * np.sin(i / 5)
    candles = make_candles(prices[:-1], prices[1:], tf=3600)
    market = MarketSpec(
        "TESTUSD", "TEST", "USD", "USD", "linear", 0.01, lot_size=0, maintenance_margin_pct=0.5
    )
    config = RunConfig(
        strategy="Scripted",
        params={"plan": {str(T0): 95}},
        markets=[market],
        exchange="local",
        timeframe="1h",
        initial_balance=1000.0,
        fee_bps=10.0,
        leverage=10,
        funding=False,
        strategy_packages=("scripted_strategies",),
    )
    result = run_backtest(config, candles, ListSink())
    (trade,) = result.trades
    assert trade.exit_reason == "liquidation"
    assert 3 <= (trade.exit_time - T0) // DAY <= 4
    *points, _ = result.equity  # the last point is the run's end, after the last candle
    assert len(points) == len(candles)  # every close (no downsampling at this length)
    times, values = (np.array(col) for col in zip(*points, strict=True))
    returns = reference_returns(times, values, 1000.0)
    assert returns[-1] == -1.0
    got, want = result.metrics, expected(returns)
    assert want["sharpe"] is not None and want["sortino"] is not None and want["calmar"] is not None
    assert_close(got, want)
    assert got["max_drawdown"] == want["max_drawdown"] == 100.0
