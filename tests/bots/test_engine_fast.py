"""The compiled rules path (bots.fast) against the Python reference.

Every built-in strategy, on random (seeded) parameters, on linear, inverse, quanto and pair
markets, with fees and slippage: the compiled path, the Python rules path and the per-candle
path give identical trades, equity points and metrics (floats compared exactly).
"""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest

from bots import indicators, runner
from bots.exchanges.sim import SimExchange
from bots.markets import INVERSE, LINEAR, QUANTO, MarketSpec
from bots.runner import ListSink, RunConfig, run_backtest
from bots.strategies.pairtrade import PairTradeBot
from bots.strategies.registry import get_strategies, get_strategy
from bots.strategies.smacross import SmaCross
from bots.strategies.testbot import TestBot

START = 1_704_067_200  # 2024-01-01 UTC
CANDLES = 20_000  # ~14 days of 1m candles: several chunks, many trades, a Sharpe ratio

XBTUSD = MarketSpec("XBTUSD", "XBT", "USD", "XBT", INVERSE, 0.5)
ETHUSD_LINEAR = MarketSpec("ETHUSD", "ETH", "USD", "USD", LINEAR, 0.05)
ETHUSD_QUANTO = MarketSpec("ETHUSD", "ETH", "USD", "XBT", QUANTO, 0.05, multiplier=1e-6)
SOLUSD = MarketSpec("SOLUSD", "SOL", "USD", "USD", LINEAR, 0.01)
BTCUSDT = MarketSpec("BTCUSDT", "BTC", "USDT", "USDT", LINEAR, 0.1)

SINGLE = {
    "linear": [BTCUSDT],
    "inverse": [XBTUSD],
    "quanto": [ETHUSD_QUANTO],
}
PAIRS = {
    "inverse+linear": [XBTUSD, ETHUSD_LINEAR],
    "inverse+quanto": [XBTUSD, ETHUSD_QUANTO],
    "linear+linear": [SOLUSD, ETHUSD_LINEAR],
}


class PerCandle:
    """Wraps a strategy class so that it is called candle by candle (the reference path)."""

    cache: dict[type, type] = {}

    @classmethod
    def of(cls, strategy: type) -> type:
        if strategy not in cls.cache:

            def on_candle(self, bar):
                super(sub, self).on_candle(bar)

            sub = type(strategy.__name__ + "PerCandle", (strategy,), {"on_candle": on_candle})
            cls.cache[strategy] = sub
        return cls.cache[strategy]


@pytest.fixture(scope="module")
def candles():
    sim = SimExchange()
    symbols = ["XBTUSD", "ETHUSD", "SOLUSD", "BTCUSDT"]
    return {s: sim.fetch_candles(s, "1m", START, START + CANDLES * 60) for s in symbols}


def random_params(strategy: type, rng: random.Random) -> dict:
    if strategy is SmaCross:
        n1 = rng.randint(2, 30)
        return {"n1": n1, "n2": rng.randint(n1 + 1, 90), "position_size": rng.choice([1, 3, 100, 0.5])}
    if strategy is TestBot:
        return {"threshold": round(rng.uniform(0.05, 0.95), 3), "position_size": rng.randint(1, 500)}
    if strategy is PairTradeBot:
        return {
            "spread_threshold": round(rng.uniform(0.3, 2.5), 3),
            "lookback": rng.randint(2, 300),
            "position_size": rng.randint(1, 50),
        }
    raise AssertionError(f"No parameter generator for {strategy.id}: add one for every built-in.")


def run_three_ways(config: RunConfig, legs, monkeypatch):
    """(compiled, Python rules, per-candle) results of the same config."""
    results = []
    for compiled in (True, False):
        monkeypatch.setattr(runner, "COMPILED_RULES", compiled)
        results.append(run_backtest(config, legs, ListSink()))
    monkeypatch.setattr(runner, "COMPILED_RULES", True)
    per_candle = PerCandle.of(get_strategy(config.strategy))
    with monkeypatch.context() as patch:
        patch.setattr("bots.runners.config.get_strategy", lambda *_a, **_k: per_candle)
        results.append(run_backtest(config, legs, ListSink()))
    return results


def assert_identical(results):
    fast, python, per_candle = results
    assert fast.trades, "a parity case without trades proves nothing"
    for other in (python, per_candle):
        assert fast.trades == other.trades
        assert fast.metrics == other.metrics
        assert fast.equity == other.equity
        assert fast.candles == other.candles


CASES = [
    (strategy, market, seed) for strategy in (SmaCross, TestBot) for market in SINGLE for seed in range(3)
] + [(PairTradeBot, market, seed) for market in PAIRS for seed in range(3)]


@pytest.mark.parametrize(("strategy", "market", "seed"), CASES, ids=lambda v: getattr(v, "id", v))
def test_compiled_rules_equal_the_python_paths(strategy, market, seed, candles, monkeypatch):
    rng = random.Random(f"{strategy.id}:{market}:{seed}")
    markets = SINGLE.get(market) or PAIRS[market]
    legs = [candles[m.symbol] for m in markets]
    config = RunConfig(
        strategy=strategy.id,
        params=random_params(strategy, rng),
        markets=markets,
        range_start=START,
        range_end=START + CANDLES * 60,
        initial_balance=1.0 if markets[0].settle == "XBT" else 10_000.0,
        fee_bps=rng.choice([0.0, 2.5, 7.5]),
        slippage_bps=rng.choice([0.0, 1.0, 5.0]),
    )
    monkeypatch.setattr(runner, "FAST_CHUNK", rng.choice([4096, 7000, 131_072]))
    assert_identical(run_three_ways(config, legs, monkeypatch))


def test_every_built_in_trading_strategy_is_covered():
    trading = {cls for cls in get_strategies().values() if "backtest" in cls.supported_types}
    assert trading == {case[0] for case in CASES}


def test_compiled_fills_partial_closes_and_additions_like_the_account(candles, monkeypatch):
    """Rules that add to, reduce and reverse positions (not only flat <-> full) agree too."""
    legs = [candles["XBTUSD"], candles["ETHUSD"]]
    markets = [XBTUSD, ETHUSD_LINEAR]
    config = RunConfig(
        strategy="PairTradeBot",
        params={"spread_threshold": 0.5, "lookback": 50, "position_size": 10},
        markets=markets,
        range_start=START,
        range_end=START + CANDLES * 60,
        initial_balance=1.0,
        fee_bps=7.5,
        slippage_bps=3.0,
    )
    base_rules = PairTradeBot.rules

    def laddered(self, ind, legs):
        """The plain rules, plus: double a position when |z| runs further, halve it back when z
        nears 0, and close a doubled position where the plain one would close."""
        rules = base_rules(self, ind, legs)
        far = np.abs(ind["z"]) > 1.5 * self.params["spread_threshold"]
        near = np.abs(ind["z"]) < 0.25
        extra = []
        for rule in rules:
            if rule.then != (0.0, 0.0):
                doubled = tuple(2 * x for x in rule.then)
                extra.append(replace(rule, when=rule.then, mask=far, then=doubled))
                extra.append(replace(rule, when=doubled, mask=near, then=rule.then))
            else:
                extra.append(replace(rule, when=tuple(2 * x for x in rule.when)))
        return rules + extra

    monkeypatch.setattr(PairTradeBot, "rules", laddered)
    results = run_three_ways(config, legs, monkeypatch)
    sizes = {t.entry_size for t in results[0].trades}
    assert len(sizes) > 1, "the ladder never added to a position"
    assert_identical(results)


def grid_configs(strategy: str, params: list[dict], markets, **kwargs) -> list[RunConfig]:
    return [
        RunConfig(
            strategy=strategy,
            params=p,
            markets=markets,
            range_start=START,
            range_end=START + CANDLES * 60,
            initial_balance=1.0,
            **kwargs,
        )
        for p in params
    ]


@pytest.mark.parametrize("batch", [1, 3, 8])
def test_a_grid_gives_each_config_what_its_own_backtest_gives(candles, batch):
    params = [{"n1": f, "n2": s, "position_size": 10} for f in (5, 9) for s in (20, 35, 50)]
    configs = grid_configs("SmaCross", params, [XBTUSD], fee_bps=7.5, slippage_bps=1.0)
    configs[2].fee_bps = 2.5  # configs of one grid may differ in execution settings too
    sinks = [ListSink() for _ in configs]
    results = runner.run_grid(configs, [candles["XBTUSD"]], sinks, batch=batch)
    assert len({r.metrics["trade_count"] for r in results}) > 1
    for config, result, sink in zip(configs, results, sinks, strict=True):
        alone_sink = ListSink()
        alone = run_backtest(config, [candles["XBTUSD"]], alone_sink)
        assert result.trades == alone.trades and result.metrics == alone.metrics
        assert result.equity == alone.equity
        assert sink.trades == alone_sink.trades and sink.metrics == alone_sink.metrics


def test_a_pair_grid_and_a_testbot_grid_match_their_backtests(candles):
    pair = grid_configs(
        "PairTradeBot",
        [{"spread_threshold": t, "lookback": 60, "position_size": 5} for t in (0.8, 1.5, 2.2)],
        [XBTUSD, ETHUSD_QUANTO],
        fee_bps=7.5,
    )
    testbot = grid_configs(
        "TestBot", [{"threshold": t, "position_size": 50} for t in (0.3, 0.6, 0.9)], [XBTUSD], fee_bps=7.5
    )
    for configs, legs in ((pair, [candles["XBTUSD"], candles["ETHUSD"]]), (testbot, [candles["XBTUSD"]])):
        results = runner.run_grid(configs, legs, keep_trades=False)
        for config, result in zip(configs, results, strict=True):
            alone = run_backtest(config, legs, ListSink())
            assert result.metrics == alone.metrics and result.equity == alone.equity
            assert result.trades == [] and alone.metrics["trade_count"] > 0


def test_a_grid_refuses_configs_of_different_markets(candles):
    configs = grid_configs("TestBot", [{"threshold": 0.5, "position_size": 1}], [XBTUSD])
    configs += grid_configs("TestBot", [{"threshold": 0.5, "position_size": 1}], [BTCUSDT])
    with pytest.raises(ValueError, match="one market"):
        runner.run_grid(configs, [candles["XBTUSD"]])


def test_shared_indicators_are_computed_once_and_read_only(candles):
    close = candles["XBTUSD"].close
    assert indicators.sma(close, 10) is not indicators.sma(close, 10)
    with indicators.shared():
        first = indicators.sma(close, 10)
        assert indicators.sma(close[:], 10) is first  # the same memory, another view
        assert indicators.sma(close, 11) is not first
        assert indicators.sma(close[1:], 10) is not first
        with pytest.raises(ValueError):
            first[0] = 1.0
    assert indicators.sma(close, 10) is not first
