"""Engine benchmark: candles/s of run_backtest vs backtesting.py, and archive load time.

Run: .venv/bin/python -m bench.engine   (prints figures; it is not a test)
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings

from bots import archive
from bots.exchanges.sim import SimExchange
from bots.runner import ListSink, RunConfig, run_backtest

YEAR_START = 1_704_067_200  # 2024-01-01 00:00 UTC
MINUTES_PER_YEAR = 525_600


class NullSink(ListSink):
    """Keeps nothing: the engine's own speed."""

    def on_trades(self, trades):
        pass

    def on_equity(self, points):
        pass


def best_of(runs: int, fn):
    best, value = float("inf"), None
    for _ in range(runs):
        began = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - began)
    return best, value


def engine(candles, strategy: str, params: dict, runs: int):
    config = RunConfig.for_market(
        strategy,
        params,
        "XBTUSD",
        timeframe="1m",
        range_start=int(candles.time[0]),
        range_end=int(candles.time[-1]) + 60,
        initial_balance=1.0,
        fee_bps=7.5,
    )
    seconds, result = best_of(runs, lambda: run_backtest(config, [candles], NullSink()))
    return len(candles) / seconds, seconds, result


def backtesting_py(candles, n1: int, n2: int):
    import pandas as pd
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover
    from backtesting.test import SMA

    class SmaCrossBT(Strategy):
        def init(self):
            self.sma1 = self.I(SMA, self.data.Close, n1)
            self.sma2 = self.I(SMA, self.data.Close, n2)

        def next(self):
            if crossover(self.sma1, self.sma2):
                self.position.close()
                self.buy()
            elif crossover(self.sma2, self.sma1):
                self.position.close()
                self.sell()

    frame = pd.DataFrame(
        {
            "Open": candles.open,
            "High": candles.high,
            "Low": candles.low,
            "Close": candles.close,
            "Volume": candles.volume,
        },
        index=pd.to_datetime(candles.time, unit="s"),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # No commission: with 7.5 bps a year of 1m reversals eats the whole account and
        # backtesting.py stops trading, which would make the trade counts incomparable.
        backtest = Backtest(frame, SmaCrossBT, cash=100_000_000, commission=0.0, finalize_trades=True)
        began = time.perf_counter()
        stats = backtest.run()
        seconds = time.perf_counter() - began
    return len(candles) / seconds, seconds, int(stats["# Trades"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="best of N for the engine")
    parser.add_argument("--skip-backtesting-py", action="store_true")
    args = parser.parse_args()

    sim = SimExchange()
    began = time.perf_counter()
    candles = sim.fetch_candles("XBTUSD", "1m", YEAR_START, YEAR_START + MINUTES_PER_YEAR * 60)
    generated = time.perf_counter() - began
    print(f"data: {len(candles):,} sim 1m candles of XBTUSD (one year), generated in {generated:.3f} s")

    rate_tb, sec_tb, res_tb = engine(candles, "TestBot", {"threshold": 0.5, "position_size": 100}, args.runs)
    print(
        f"engine TestBot (threshold 0.5)   : {rate_tb:>12,.0f} candles/s  ({sec_tb:.3f} s, "
        f"{len(res_tb.trades):,} trades)"
    )
    rate_sc, sec_sc, res_sc = engine(
        candles, "SmaCross", {"n1": 10, "n2": 20, "position_size": 100}, args.runs
    )
    print(
        f"engine SmaCross (n1=10, n2=20)   : {rate_sc:>12,.0f} candles/s  ({sec_sc:.3f} s, "
        f"{len(res_sc.trades):,} trades)"
    )

    if not args.skip_backtesting_py:
        rate_bt, sec_bt, trades_bt = backtesting_py(candles, 10, 20)
        print(
            f"backtesting.py SmaCross (10, 20) : {rate_bt:>12,.0f} candles/s  ({sec_bt:.3f} s, "
            f"{trades_bt:,} trades)"
        )
        print(f"ratio engine/backtesting.py      : {rate_sc / rate_bt:>12.1f}x")
        print(
            f"trade counts (engine vs b.py)    : {len(res_sc.trades):,} vs {trades_bt:,} "
            f"({(len(res_sc.trades) - trades_bt) / max(trades_bt, 1) * 100:+.2f}%)"
        )

    with tempfile.TemporaryDirectory() as root:
        archive.write(root, "sim", "XBTUSD", "1m", candles)
        loads = []
        for _ in range(3):
            began = time.perf_counter()
            loaded = archive.load(root, "sim", "XBTUSD", "1m", YEAR_START, YEAR_START + MINUTES_PER_YEAR * 60)
            loads.append(time.perf_counter() - began)
        assert loaded.equals(candles)
        print(
            f"archive load of the year         : {loads[0]:.3f} s first, {min(loads):.3f} s best "
            f"({len(loaded):,} candles, 366 daily .npy files)"
        )
    targets = {
        "TestBot >= 1M/s": rate_tb >= 1e6,
        "SmaCross >= 1M/s": rate_sc >= 1e6,
        "archive load < 0.3 s": loads[0] < 0.3,
    }
    print("targets: " + ", ".join(f"{k}: {'met' if ok else 'MISSED'}" for k, ok in targets.items()))


if __name__ == "__main__":
    main()
