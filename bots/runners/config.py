"""What a run is: its config, the config's hash, and the strategy the config names."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
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


def maintenance_margins(markets: Sequence[MarketSpec], pct: float | None) -> list[float]:
    """Each leg's maintenance margin as a fraction of its notional (`pct` in %, None: the
    market's own)."""
    if pct is not None:
        return [float(pct) / 100.0 for _ in markets]
    return [float(m.maintenance_margin_pct) / 100.0 for m in markets]


def funding_legs(markets: Sequence[MarketSpec], funding: bool | None) -> list[bool]:
    """Which legs pay funding: the perpetual ones, unless `funding` is False."""
    on = True if funding is None else bool(funding)
    return [on and bool(m.perpetual) for m in markets]


def canonical_account(
    markets: Sequence[MarketSpec], leverage: float, sizing: str, pct: float | None, funding: bool | None
) -> dict[str, Any]:
    """The account's part of a config's canonical JSON, resolved against the markets (what
    the run will use), so the Django side and RunConfig hash it alike."""
    return {
        "leverage": float(leverage),
        "sizing": sizing,
        "maintenance_margin": maintenance_margins(markets, pct),
        "funding": funding_legs(markets, funding),
        "lot_size": [float(m.lot_size) for m in markets],
    }


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
    # The account (docs/engine.md, "Margin"): leverage, what position_size means ("units",
    # "equity": a fraction of the margin available, "notional": a value in the quote
    # currency), the maintenance margin in % (None: each market's) and funding (None: on for
    # perpetual markets).
    leverage: float = 1.0
    sizing: str = "units"
    maintenance_margin_pct: float | None = None
    funding: bool | None = None
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

    def maintenance_margins(self) -> list[float]:
        """Each leg's maintenance margin as a fraction of its notional."""
        return maintenance_margins(self.markets, self.maintenance_margin_pct)

    def funding_legs(self) -> list[bool]:
        """Which legs pay funding: the perpetual ones, unless funding is off."""
        return funding_legs(self.markets, self.funding)

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
            **canonical_account(
                self.markets, self.leverage, self.sizing, self.maintenance_margin_pct, self.funding
            ),
        }

    def config_hash(self) -> str:
        """The hash that names a result: the same hash on the same data gives the same trades.

        Over the canonical JSON, so two configs that differ only in spelling (an int balance,
        a float one) share it.
        """
        return canonical_hash(self.canonical())


SIZINGS = ("units", "equity", "notional")


def make_strategy(config: RunConfig) -> Strategy:
    cls = get_strategy(config.strategy, config.strategy_packages)
    strategy = cls(config.params)
    if len(config.markets) != cls.legs:
        raise ValueError(f"{cls.id} trades {cls.legs} market(s) at once; got {config.market!r}.")
    if config.sizing not in SIZINGS:
        raise ValueError(f"sizing must be one of {', '.join(SIZINGS)} (got {config.sizing!r}).")
    if not config.leverage >= 1:
        raise ValueError(f"leverage must be at least 1 (got {config.leverage!r}).")
    return strategy
