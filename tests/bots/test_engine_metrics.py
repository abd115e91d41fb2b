"""Each metric on small hand-computed series; the chart downsampling keeps the extremes."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from bots.metrics import compute_metrics, daily_returns, downsample, max_drawdown_pct, sharpe_ratio

DAY = 86400
D0 = 1_700_006_400


def trades(*pnls):
    return [SimpleNamespace(run_pnl=p) for p in pnls]


def test_max_drawdown_is_the_largest_fall_from_a_peak():
    equity = np.array([120, 90, 130, 117, 125], dtype=float)
    assert max_drawdown_pct(equity, 100.0) == pytest.approx(25.0)  # 120 -> 90
    assert max_drawdown_pct(np.array([100.0, 101, 102]), 100.0) == 0.0
    # The starting balance is a peak too: 100 -> 80 before any gain.
    assert max_drawdown_pct(np.array([80.0, 150]), 100.0) == pytest.approx(20.0)


def test_sharpe_uses_each_days_last_equity_and_sqrt_365():
    times = np.array([D0 + 60, D0 + DAY - 60, D0 + DAY + 5, D0 + 2 * DAY - 60, D0 + 3 * DAY - 60])
    equity = np.array([105.0, 110.0, 50.0, 99.0, 108.9])
    returns = daily_returns(times, equity, 100.0)
    assert returns == pytest.approx([0.1, -0.1, 0.1])
    expected = np.mean([0.1, -0.1, 0.1]) / np.std([0.1, -0.1, 0.1], ddof=1) * math.sqrt(365)
    assert sharpe_ratio(times, equity, 100.0) == pytest.approx(expected)
    assert expected == pytest.approx(5.5151, abs=1e-4)
    # Under two daily returns there is no Sharpe ratio.
    assert sharpe_ratio(times[:2], equity[:2], 100.0) is None


def test_trade_metrics():
    times = np.array([D0, D0 + 60, D0 + 120])
    m = compute_metrics(
        trades=trades(30.0, -10.0, 20.0, -5.0, 0.0),
        times=times,
        equity=np.array([1000.0, 1040.0, 1035.0]),
        initial_balance=1000.0,
        currency="USD",
        fees_paid=4.5,
        exposed_candles=1,
        candles=3,
    )
    assert m["trade_count"] == 5
    assert m["win_rate"] == pytest.approx(40.0)  # 2 of 5 above zero; 0 is not a win
    assert m["profit_factor"] == pytest.approx(50 / 15)
    assert m["avg_trade"] == pytest.approx(7.0)
    assert (m["best_trade"], m["worst_trade"]) == (30.0, -10.0)
    assert m["total_pnl"] == pytest.approx(35.0)
    assert m["return_pct"] == pytest.approx(3.5)
    assert m["final_equity"] == 1035.0
    assert m["max_drawdown"] == pytest.approx(5 / 1040 * 100)
    assert m["fees_paid"] == 4.5
    assert m["exposure_pct"] == pytest.approx(100 / 3)
    assert m["currency"] == "USD"
    assert m["sharpe"] is None


def test_no_losing_trade_leaves_profit_factor_undefined():
    m = compute_metrics(
        trades=trades(1.0),
        times=np.array([D0]),
        equity=np.array([101.0]),
        initial_balance=100.0,
        currency="USD",
        fees_paid=0,
        exposed_candles=0,
        candles=1,
    )
    assert m["profit_factor"] is None
    assert m["win_rate"] == 100.0


def test_downsampling_keeps_extremes_and_bounds_the_points():
    rng = np.random.default_rng(7)
    values = np.cumsum(rng.normal(size=100_000))
    values[31_337] = 1e6
    values[77_777] = -1e6
    times = np.arange(len(values)) * 60
    points = downsample(times, values, bucket=100)
    assert len(points) <= 2000
    kept = dict(points)
    assert kept[31_337 * 60] == 1e6 and kept[77_777 * 60] == -1e6
    assert [t for t, _ in points] == sorted(t for t, _ in points)
    # Chunk by chunk (chunks on bucket boundaries) equals all at once.
    pieces = downsample(times[:30_000], values[:30_000], 100) + downsample(
        times[30_000:], values[30_000:], 100, offset=30_000
    )
    assert pieces == points
