"""What a run is: its config, the config's hash, and the strategy the config names."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bots.markets import MarketSpec, market_specs
from bots.strategies.base import Strategy
from bots.strategies.registry import get_strategy


def canonical_hash(canonical: Mapping[str, Any]) -> str:
    """The config hash: first 12 hex of sha256 over sorted, compact JSON. The one definition,
    used by RunConfig and by the Django side for a run before it exists as a RunConfig."""
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass
class RunConfig:
    """Everything that determines a run's result (its config hash is over these)."""

    strategy: str
    params: dict[str, Any]
    markets: list[MarketSpec]
    exchange: str = "sim"
    timeframe: str = "1m"
    range_start: int | None = None  # Unix seconds, inclusive (candle open time)
    range_end: int | None = None  # exclusive
    initial_balance: float = 10_000.0
    fee_bps: float = 7.5
    slippage_bps: float = 0.0
    # Extra packages searched for the strategy id (user strategies); not part of the hash.
    strategy_packages: tuple[str, ...] = ()

    @property
    def market(self) -> str:
        """The market as written in sessions: 'XBTUSD' or 'XBTUSD+ETHUSD'."""
        return "+".join(m.symbol for m in self.markets)

    @classmethod
    def for_market(cls, strategy: str, params: dict[str, Any], market: str, **kwargs: Any) -> RunConfig:
        """A config from a market string, using the engine's default market specs."""
        return cls(strategy=strategy, params=params, markets=market_specs(market), **kwargs)

    def canonical(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "params": self.params,
            "market": self.market,
            "exchange": self.exchange,
            "timeframe": self.timeframe,
            "range_start": self.range_start,
            "range_end": self.range_end,
            "initial_balance": float(self.initial_balance),
            "fee_bps": float(self.fee_bps),
            "slippage_bps": float(self.slippage_bps),
        }

    def config_hash(self) -> str:
        """The hash that names a result: the same hash on the same data gives the same trades.

        Over the canonical JSON, so two configs that differ only in spelling (an int balance,
        a float one) share it.
        """
        return canonical_hash(self.canonical())


def make_strategy(config: RunConfig) -> Strategy:
    cls = get_strategy(config.strategy, config.strategy_packages)
    strategy = cls(config.params)
    if len(config.markets) != cls.legs:
        raise ValueError(f"{cls.id} trades {cls.legs} market(s) at once; got {config.market!r}.")
    return strategy
