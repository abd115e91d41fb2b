"""A sweep's runs backtested at once (run_grid): the candles loaded once, each distinct
indicator computed once, the rules of a batch of configs walked in one compiled call, then
each run reported as run_backtest would."""

from __future__ import annotations

import time as _time
from collections.abc import Callable
from typing import Any

from bots import indicators
from bots.candles import timeframe_seconds
from bots.runners.backtest import Backtest, funding_array, load_legs
from bots.runners.compiled import CompiledLegs
from bots.runners.config import RunConfig, make_strategy
from bots.runners.sink import NullSink, Result, Sink


def run_grid(
    configs: list[RunConfig],
    feed: Any,
    sinks: list[Sink] | None = None,
    clock: Callable[[], float] = _time.monotonic,
    *,
    slow_chunk: int,
    chunk_seconds: float,
    batch: int = 8,
    keep_trades: bool = True,
    funding: Any = None,
) -> list[Result]:
    """Backtest many configs of one market, timeframe and range (a sweep's runs) at once.

    The candles are loaded once, each distinct indicator array is computed once
    (bots.indicators.shared), and the rules of `batch` configs at a time run in one compiled
    call. Each run reports to its sink (`sinks[i]`, or nowhere) as run_backtest would, in one
    chunk; results equal run_backtest's. `keep_trades=False` leaves the results' trades empty
    (the sinks had them), so a big grid does not hold every trade in memory.
    """
    if not configs:
        return []
    first = configs[0]
    shape = (first.market, first.exchange, first.timeframe, first.range_start, first.range_end)
    for config in configs:
        if (config.market, config.exchange, config.timeframe, config.range_start, config.range_end) != shape:
            raise ValueError("run_grid takes configs of one market, exchange, timeframe and range.")
    sinks = sinks if sinks is not None else [NullSink() for _ in configs]
    if len(sinks) != len(configs):
        raise ValueError(f"{len(sinks)} sinks for {len(configs)} configs.")
    strategies = [make_strategy(config) for config in configs]
    legs, start = load_legs(first, feed, max(max(0, int(s.startup_candles())) for s in strategies))
    # The markets' rates, shared: a config with funding off pays none of them (its spec says so).
    paying = next((c for c in configs if any(c.funding_legs())), None)
    frates = funding_array(paying, legs, funding, feed) if paying is not None else None
    tf = timeframe_seconds(first.timeframe)
    n = len(legs[0])
    shared: CompiledLegs | None = None
    results: list[Result] = []
    with indicators.shared():
        for first_run in range(0, len(configs), max(1, batch)):
            group = []
            for config, strategy, sink in zip(
                configs[first_run : first_run + batch],
                strategies[first_run : first_run + batch],
                sinks[first_run : first_run + batch],
                strict=True,
            ):
                if shared is None and strategy.uses_rules():
                    shared = CompiledLegs(legs, frates)
                backtest = Backtest(
                    config, strategy, tf, legs, sink, clock, fast_chunk=n, slow_chunk=slow_chunk,
                    chunk_seconds=chunk_seconds, start=start, frates=frates, compiled_arrays=shared,
                )  # fmt: skip
                group.append(backtest)
            walks = []
            for backtest in group:
                if backtest.compiled is None:
                    continue
                backtest.chunk = n  # one chunk: the whole range was walked at once
                rules = backtest.strategy.rules(backtest.strategy.precompute(legs), legs)
                if rules is not None:
                    walks.append((backtest, rules))
            if walks:
                walked = shared.walk_many(
                    [b.account for b, _ in walks], [r for _, r in walks], start, n, 0, n
                )
                for (backtest, _), (equity, exposed, _pending) in zip(walks, walked, strict=True):
                    backtest.preset = (equity, exposed)
            for backtest in group:
                result = backtest.run()
                if not keep_trades:
                    result.trades = []
                results.append(result)
    return results
