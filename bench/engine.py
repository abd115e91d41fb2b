"""Engine benchmark: the engine against vectorbt and backtesting.py on the same sim year.

One SmaCross run (candles/s, trade counts side by side), a 100-config grid (fast 5..14 x slow
20..65 step 5), the first run in a fresh process (compilation or cache load included), the
sim year's generation and the archive's load time.

Run: .venv/bin/python -m bench.engine   (prints figures; it is not a test). vectorbt comes
from requirements-bench.txt (`make bench` installs it); without it its figures are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from bots import archive
from bots.exchanges.sim import SimExchange
from bots.runner import ListSink, RunConfig, run_backtest, run_grid, warm

ROOT = Path(__file__).resolve().parent.parent
# vectorbt's time for the 100-config grid, left for bench.sweep_year's ratio.
VBT_GRID_FILE = ROOT / "var" / "bench" / "vectorbt_grid.json"
GRID = [(fast, slow) for fast in range(5, 15) for slow in range(20, 70, 5)]

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


def year_config(candles, strategy: str, params: dict) -> RunConfig:
    return RunConfig.for_market(
        strategy,
        params,
        "XBTUSD",
        timeframe="1m",
        range_start=int(candles.time[0]),
        range_end=int(candles.time[-1]) + 60,
        initial_balance=1.0,
        fee_bps=7.5,
        # The margin account on: 10x, XBTUSD's maintenance margin (liquidation checked at every
        # candle) and funding at every 8 h (the sim's rates); the trades stay vectorbt's.
        leverage=10.0,
        funding=True,
    )


def engine(candles, strategy: str, params: dict, runs: int):
    config = year_config(candles, strategy, params)
    seconds, result = best_of(runs, lambda: run_backtest(config, [candles], NullSink()))
    return len(candles) / seconds, seconds, result


def engine_grid(candles):
    """The 100 configs through run_grid: (seconds, trade count per config)."""
    configs = [year_config(candles, "SmaCross", {"n1": f, "n2": s, "position_size": 100}) for f, s in GRID]
    began = time.perf_counter()
    results = run_grid(configs, [candles], keep_trades=False)
    seconds = time.perf_counter() - began
    return seconds, [r.metrics["trade_count"] for r in results]


def vectorbt_frames(candles):
    import pandas as pd

    index = pd.to_datetime(candles.time, unit="s")
    return pd.Series(candles.close, index=index), pd.Series(candles.open, index=index)


def vectorbt_run(vbt, close, open_, fast_windows, slow_windows):
    """SmaCross in vectorbt: MAs and crossings by vectorbt, orders filled at the next open
    (signals shifted one candle, price = open), 100 units, 7.5 bps fees, reversing."""
    fast = vbt.MA.run(close, list(fast_windows), short_name="fast")
    slow = vbt.MA.run(close, list(slow_windows), short_name="slow")
    up = fast.ma_crossed_above(slow.ma.values)
    down = fast.ma_crossed_below(slow.ma.values)
    entries = np.roll(np.asarray(up.values), 1, axis=0)
    shorts = np.roll(np.asarray(down.values), 1, axis=0)
    entries[0] = shorts[0] = False
    width = entries.shape[1] if entries.ndim == 2 else 1
    price = np.tile(open_.values.reshape(-1, 1), (1, width)) if width > 1 else open_
    portfolio = vbt.Portfolio.from_signals(
        price, entries=entries, short_entries=shorts, size=100, size_type="amount", fees=0.00075,
        init_cash=1e12, freq="1min",
    )  # fmt: skip
    counts = portfolio.trades.count()
    return [int(x) for x in np.atleast_1d(np.asarray(counts))]


def vectorbt_bench(candles, runs: int):
    """(one run: candles/s, seconds, trades; grid: seconds, trades per config) or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import vectorbt as vbt
    except ImportError:
        return None
    close, open_ = vectorbt_frames(candles)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # vectorbt's own numba compilation, on a small slice, is not what we time
        vectorbt_run(vbt, close[:5000], open_[:5000], [10], [20])
        vectorbt_run(vbt, close[:5000], open_[:5000], [5, 6], [20, 25])
        seconds, counts = best_of(runs, lambda: vectorbt_run(vbt, close, open_, [10], [20]))
        began = time.perf_counter()
        grid_counts = []
        for k in range(0, len(GRID), 25):  # 25 columns a call: ~1 GB at a time, not 4
            part = GRID[k : k + 25]
            grid_counts += vectorbt_run(vbt, close, open_, [f for f, _ in part], [s for _, s in part])
        grid_seconds = time.perf_counter() - began
    return (len(candles) / seconds, seconds, counts[0]), (grid_seconds, grid_counts)


FRESH = """
import time
began = time.perf_counter()
from bots import runner
from bots.exchanges.sim import SimExchange
imported = time.perf_counter()
runner.warm()
candles = SimExchange().fetch_candles("XBTUSD", "1m", {start}, {end})
config = runner.RunConfig.for_market("SmaCross", {{"n1": 10, "n2": 20, "position_size": 100}}, "XBTUSD",
    range_start={start}, range_end={end}, initial_balance=1.0, fee_bps=7.5)
result = runner.run_backtest(config, [candles], runner.ListSink())
done = time.perf_counter()
print(f"{{done - imported:.3f}} {{imported - began:.3f}} {{len(result.trades)}}")
"""


def fresh_process(start: int, end: int, cache_dir: str | None = None) -> tuple[float, float, int]:
    """A new Python process that imports the engine, then loads (or compiles) its code,
    generates the year and runs SmaCross over it with every trade built.

    (seconds from the imports' end to the result, seconds of the imports, trades)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if cache_dir:
        env["NUMBA_CACHE_DIR"] = cache_dir
    out = subprocess.run(
        [sys.executable, "-c", FRESH.format(start=start, end=end)],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    return float(out[0]), float(out[1]), int(out[2])


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
    parser.add_argument("--runs", type=int, default=3, help="best of N for single runs")
    parser.add_argument("--skip-backtesting-py", action="store_true")
    parser.add_argument("--skip-vectorbt", action="store_true")
    args = parser.parse_args()

    began = time.perf_counter()
    warm()
    print(
        f"engine's compiled code loaded (numba cache) in {time.perf_counter() - began:.2f} s "
        "(a worker does this when it starts)"
    )
    sim = SimExchange()
    start, end = YEAR_START, YEAR_START + MINUTES_PER_YEAR * 60
    began = time.perf_counter()
    candles = sim.fetch_candles("XBTUSD", "1m", start, end)
    generated = time.perf_counter() - began
    again, _ = best_of(3, lambda: sim.fetch_candles("XBTUSD", "1m", start, end))
    print(
        f"data: {len(candles):,} sim 1m candles of XBTUSD (one year), generated in {generated:.3f} s "
        f"first, {again:.3f} s best"
    )

    print(
        "engine runs: margin on (10x leverage, XBTUSD's 0.35 % maintenance margin checked at every candle, funding every 8 h)"
    )
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
    vbt = None if args.skip_vectorbt else vectorbt_bench(candles, args.runs)
    if vbt is None and not args.skip_vectorbt:
        print("vectorbt is not installed (requirements-bench.txt; `make bench` installs it): skipped")
    if vbt is not None:
        (rate_vbt, sec_vbt, trades_vbt), _ = vbt
        print(
            f"vectorbt SmaCross (10, 20)       : {rate_vbt:>12,.0f} candles/s  ({sec_vbt:.3f} s, "
            f"{trades_vbt:,} trades)"
        )
        print(
            f"ratio engine/vectorbt            : {rate_sc / rate_vbt:>12.2f}x  "
            f"(trades {len(res_sc.trades):,} vs {trades_vbt:,})"
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

    grid_seconds, grid_counts = engine_grid(candles)
    print(
        f"grid of {len(GRID)} SmaCross configs (fast 5..14 x slow 20..65 step 5) over the year: "
        f"engine {grid_seconds:.2f} s ({sum(grid_counts):,} trades)"
    )
    if vbt is not None:
        _, (vbt_grid_seconds, vbt_grid_counts) = vbt
        same = sum(a == b for a, b in zip(grid_counts, vbt_grid_counts, strict=True))
        print(
            f"                                  vectorbt {vbt_grid_seconds:.2f} s ({sum(vbt_grid_counts):,} "
            f"trades); ratio engine/vectorbt {grid_seconds / vbt_grid_seconds:.2f}x time; "
            f"{same} of {len(GRID)} configs with the same trade count"
        )
        # For bench.sweep_year, run next in the same `make bench`: the same grid as a session.
        VBT_GRID_FILE.parent.mkdir(parents=True, exist_ok=True)
        VBT_GRID_FILE.write_text(json.dumps({"seconds": vbt_grid_seconds, "at": time.time()}))

    fresh, imports, fresh_trades = fresh_process(start, end)
    print(
        f"first run in a fresh process     : {fresh:.2f} s to load the compiled code, generate the "
        f"year and run SmaCross ({fresh_trades:,} trades, all built); imports before it {imports:.2f} s"
    )
    with tempfile.TemporaryDirectory() as cache:
        cold, _, _ = fresh_process(start, end, cache)
    print(f"  the same with an empty numba cache (compiling everything): {cold:.2f} s")

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
        "sim year <= 0.1 s (best of 3; first call above)": again <= 0.1,
        "fresh-process first run <= 2 s": fresh <= 2.0,
        "archive load < 0.3 s": loads[0] < 0.3,
    }
    if vbt is not None:
        targets["SmaCross >= 1.5x vectorbt, same trades"] = (
            rate_sc >= 1.5 * vbt[0][0] and len(res_sc.trades) == vbt[0][2]
        )
        targets["grid <= vectorbt"] = grid_seconds <= vbt[1][0]
    print("targets: " + ", ".join(f"{k}: {'met' if ok else 'MISSED'}" for k, ok in targets.items()))


if __name__ == "__main__":
    main()
