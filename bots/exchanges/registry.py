"""Exchanges by name."""

from __future__ import annotations

from typing import Any

from bots.exchanges.base import Exchange
from bots.exchanges.bitmex import BitmexExchange
from bots.exchanges.ccxt_exchange import BinanceExchange
from bots.exchanges.sim import SimExchange


def exchange_classes() -> dict[str, type[Exchange]]:
    return {cls.name: cls for cls in (SimExchange, BitmexExchange, BinanceExchange)}


def get_exchange(name: str, **kwargs: Any) -> Exchange:
    """An exchange instance by name ('sim', 'bitmex', 'binance'); KeyError otherwise."""
    classes = exchange_classes()
    if name not in classes:
        raise KeyError(f"Unknown exchange {name!r}; expected one of {', '.join(classes)}.")
    return classes[name](**kwargs)
