"""The built-in strategies' default parameters fit every sim market they support: the
position they open needs at most 1x leverage of the default balance, at any close of a year
of the sim's daily candles (sized in units, the default sizing)."""

from __future__ import annotations

import numpy as np
import pytest

from bots.exchanges.sim import SimExchange
from bots.markets import default_balance, market_specs, same_currency
from bots.strategies.registry import get_strategies

YEAR = (1_735_689_600, 1_767_225_600)  # 2025-01-01 .. 2026-01-01 UTC
TRADING = {"TestBot", "SmaCross", "PairTradeBot"}  # the built-ins that open positions


def _sim_markets(cls) -> list[str]:
    """The sim markets a strategy trades: those it lists, or every sim market for "*"."""
    listed = [m for m in cls.supported_markets if m != "*"]
    if "*" in cls.supported_markets and cls.legs == 1:
        listed += [m for m in SimExchange.markets if m not in listed]
    return [m for m in listed if all(leg in SimExchange.markets for leg in m.split("+"))]


def _leverage_needed(market: str, size: float) -> float:
    """The largest notional of `size` on every leg over the default balance, at each close."""
    specs = market_specs(market)
    sim = SimExchange()
    closes = [sim.candles(spec.symbol, "1d", *YEAR).close for spec in specs]
    run = specs[0].settle
    total = np.zeros(len(closes[0]))
    for spec, close in zip(specs, closes, strict=True):
        notional = np.array([spec.notional(size, price) for price in close])
        if not same_currency(spec.settle, run):
            # through the leg priced in the run currency (XBTUSD for a USD-settled leg of an XBT run)
            link = next(i for i, other in enumerate(specs) if same_currency(other.base, run))
            notional = notional / closes[link]
        total += notional
    return float(total.max() / default_balance(run))


def _cases():
    strategies = get_strategies()
    for strategy_id in sorted(TRADING):
        cls = strategies[strategy_id]
        for market in _sim_markets(cls):
            yield pytest.param(cls, market, id=f"{strategy_id}-{market}")


def test_every_trading_built_in_is_checked_on_its_markets():
    checked = {cls.id for cls, _ in (case.values for case in _cases())}
    assert checked == TRADING
    trading = {sid for sid, cls in get_strategies().items() if "position_size" in cls.default_params}
    assert trading == TRADING


@pytest.mark.parametrize(("cls", "market"), list(_cases()))
def test_the_defaults_need_at_most_1x_leverage_of_the_default_balance(cls, market):
    params = dict(cls.default_params)
    cls(params)  # valid as they are

    needed = _leverage_needed(market, float(params["position_size"]))

    assert needed <= 1.0, f"{cls.id} on {market}: position_size {params['position_size']} needs {needed:.2f}x"


def test_the_check_catches_a_default_too_large():
    """100 ETH against 10,000 USD: the default TestBot once had."""
    assert _leverage_needed("ETHUSD", 100) > 20
