"""Leverage and sizing by equity held equal to backtesting.py 0.6.6 on its bundled data.

Our SmaCross with `leverage` L and sizing "equity" (position_size f: a fraction of the margin
available, whole lots) against backtesting.py's SmaCross buying and selling `size=f` with
`margin=1/L` and exclusive orders, on GOOG (daily) and EURUSD (hourly): every closed trade's
side, size, entry and exit (time and price) and PnL, the final equity and the max drawdown.

The end of a run differs (docs/engine.md): ours closes the last open trade at the last close
and pays its exit fee; backtesting.py (finalize_trades=False) leaves it open, marked at the
last close. So their closed trades are ours but the last ('end') one, their open trade is our
last one, and their final equity is ours plus that trade's exit fee.

Funding is off and maintenance margin 0, and the cases are ones where their equity stays
above 0 at every candle's adverse extreme, so no liquidation happens on either side.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
from backtesting.test import EURUSD, GOOG, SMA

import bots.runner
from bots.candles import Candles
from bots.markets import MarketSpec
from bots.metrics import max_drawdown_pct
from bots.runner import ListSink, RunConfig, run_backtest, run_grid

CASH = 10_000.0
DATA = {
    # name: (frame, timeframe, commission, (n1, n2))
    "GOOG": (GOOG, "1d", 0.002, (10, 20)),
    "EURUSD": (EURUSD, "1h", 0.0002, (10, 30)),
}
# (data, leverage, position_size): leverages whose inverse is exact, equity > 0 throughout.
CASES = [
    ("GOOG", 1, 0.95),
    ("GOOG", 2, 0.5),
    ("GOOG", 4, 1.0),
    ("GOOG", 5, 0.5),
    ("EURUSD", 1, 1.0),
    ("EURUSD", 10, 0.95),
    ("EURUSD", 20, 0.5),
    ("EURUSD", 50, 0.5),
]
PATHS = ["compiled", "rules", "per-candle"]


def market(name: str) -> MarketSpec:
    """A linear market of whole units (lot 1), as backtesting.py trades."""
    return MarketSpec(
        name,
        {"GOOG": "GOOG", "EURUSD": "EUR"}[name],
        "USD",
        "USD",
        "linear",
        0.00001,
        lot_size=1,
        max_leverage=100,
        maintenance_margin_pct=0,
        perpetual=False,
    )


@functools.cache
def candles(name: str) -> Candles:
    frame = DATA[name][0]
    times = frame.index.values.astype("datetime64[s]").astype(np.int64)
    return Candles(
        times,
        frame.Open.to_numpy(),
        frame.High.to_numpy(),
        frame.Low.to_numpy(),
        frame.Close.to_numpy(),
        frame.Volume.to_numpy(dtype=np.float64),
    )


def config(name: str, leverage: float, fraction: float, strategy: str = "SmaCross") -> RunConfig:
    _, timeframe, commission, (n1, n2) = DATA[name]
    return RunConfig(
        strategy=strategy,
        params={"n1": n1, "n2": n2, "position_size": fraction},
        markets=[market(name)],
        exchange="local",
        timeframe=timeframe,
        initial_balance=CASH,
        fee_bps=commission * 1e4,
        slippage_bps=0.0,
        leverage=leverage,
        sizing="equity",
        maintenance_margin_pct=0.0,
        funding=False,
        strategy_packages=("account_strategies",),
    )


def reference_strategy(n1: int, n2: int, fraction: float) -> type[Strategy]:
    # size=1.0 is one unit to backtesting.py; its default size is the whole margin available.
    size = {} if fraction == 1.0 else {"size": fraction}

    class SmaCross(Strategy):
        def init(self):
            self.fast = self.I(SMA, self.data.Close, n1)
            self.slow = self.I(SMA, self.data.Close, n2)

        def next(self):
            if crossover(self.fast, self.slow):
                self.buy(**size)
            elif crossover(self.slow, self.fast):
                self.sell(**size)

    return SmaCross


@functools.cache
def reference(name: str, leverage: float, fraction: float):
    """backtesting.py's run: (closed trades, the open trade, final equity, equity curve)."""
    frame, _, commission, (n1, n2) = DATA[name]
    backtest = Backtest(
        frame,
        reference_strategy(n1, n2, fraction),
        cash=CASH,
        commission=commission,
        margin=1 / leverage,
        exclusive_orders=True,
        finalize_trades=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = backtest.run()
    (still_open,) = stats._strategy.trades
    equity = stats._equity_curve["Equity"].to_numpy()
    return stats._trades, still_open, float(stats["Equity Final [$]"]), equity


def adverse_equity(name: str, trades: pd.DataFrame, still_open, equity: np.ndarray) -> float:
    """Their lowest equity at a candle's adverse extreme (low held long, high held short)."""
    c = candles(name)
    held = np.zeros(len(c))
    for entry, exit_, size in zip(trades.EntryBar, trades.ExitBar, trades.Size, strict=True):
        held[int(entry) : int(exit_)] += size
    held[still_open.entry_bar :] += still_open.size
    extreme = np.where(held > 0, c.low, c.high)
    return float((equity + held * (extreme - c.close)).min())


def run(name: str, leverage: float, fraction: float, path: str):
    if path == "per-candle":
        return run_backtest(config(name, leverage, fraction, "SmaCrossPerCandle"), candles(name), ListSink())
    return run_backtest(config(name, leverage, fraction), candles(name), ListSink())


@pytest.fixture
def path(request, monkeypatch):
    monkeypatch.setattr(bots.runner, "COMPILED_RULES", request.param == "compiled")
    return request.param


def assert_same(name: str, leverage: float, fraction: float, result) -> None:
    theirs, still_open, final_equity, equity = reference(name, leverage, fraction)
    commission = DATA[name][2]
    c = candles(name)
    assert adverse_equity(name, theirs, still_open, equity) > 0  # no liquidation on either side

    trades = list(result.trades)
    *closed, last = trades
    assert len(closed) == len(theirs) > 20
    assert [t.exit_reason for t in closed] == ["signal"] * len(closed)
    for ours, (_, t) in zip(closed, theirs.iterrows(), strict=True):
        where = f"trade entered at {ours.entry_time}"
        assert ours.side == ("long" if t.Size > 0 else "short"), where
        assert ours.entry_size == ours.exit_size == abs(t.Size), where
        assert (ours.entry_time, ours.exit_time) == (c.time[t.EntryBar], c.time[t.ExitBar]), where
        assert ours.entry_price == pytest.approx(t.EntryPrice, rel=1e-12), where
        assert ours.exit_price == pytest.approx(t.ExitPrice, rel=1e-12), where
        notional = abs(t.Size) * t.EntryPrice
        assert ours.realized_pnl == pytest.approx(t.PnL, rel=1e-9, abs=1e-12 * notional), where
        assert ours.funding == 0.0

    # Their open trade is our 'end' trade, closed at the last close with its exit fee.
    assert last.exit_reason == "end"
    assert last.side == ("long" if still_open.size > 0 else "short")
    assert last.entry_size == abs(still_open.size)
    assert last.entry_time == c.time[still_open.entry_bar]
    assert last.entry_price == pytest.approx(still_open.entry_price, rel=1e-12)
    assert last.exit_price == c.close[-1]
    exit_fee = last.exit_size * last.exit_price * commission
    metrics = result.metrics
    assert metrics["final_equity"] + exit_fee == pytest.approx(final_equity, rel=1e-9)
    # Their equity curve with that exit fee paid at the last close is ours.
    ended = equity.copy()
    ended[-1] -= exit_fee
    assert metrics["max_drawdown"] == pytest.approx(max_drawdown_pct(ended, CASH), rel=1e-9)
    assert metrics["trade_count"] == len(trades)
    assert (metrics["leverage"], metrics["sizing"]) == (leverage, "equity")
    assert (metrics["liquidations"], metrics["out_of_money"], metrics["funding_paid"]) == (0, False, 0.0)


@pytest.mark.parametrize("path", PATHS, indirect=True)
@pytest.mark.parametrize(("name", "leverage", "fraction"), CASES)
def test_a_backtest_equals_backtesting_py(name, leverage, fraction, path):
    assert_same(name, leverage, fraction, run(name, leverage, fraction, path))


@pytest.mark.parametrize("name", list(DATA))
def test_a_grid_equals_backtesting_py_config_by_config(name):
    cases = [(lev, f) for data, lev, f in CASES if data == name]
    configs = [config(name, lev, f) for lev, f in cases]
    results = run_grid(configs, candles(name), batch=3)
    assert len(results) == len(cases)
    for (lev, f), result in zip(cases, results, strict=True):
        assert_same(name, lev, f, result)


def test_the_reference_cases_are_not_all_alike():
    """Leverage and fraction change backtesting.py's results (the cases test something)."""
    finals = {(name, lev, f): reference(name, lev, f)[2] for name, lev, f in CASES}
    assert len(set(finals.values())) == len(finals)
