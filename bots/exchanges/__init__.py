"""Exchanges, one module each (sim, bitmex, binance, local), found through bots.exchanges.registry."""

from bots.exchanges.base import Capability, Exchange, ExchangeError
from bots.exchanges.registry import (
    exchange_can,
    exchange_class,
    exchange_classes,
    exchange_names,
    get_exchange,
)

__all__ = [
    "Capability",
    "Exchange",
    "ExchangeError",
    "exchange_can",
    "exchange_class",
    "exchange_classes",
    "exchange_names",
    "get_exchange",
]
