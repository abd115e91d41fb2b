"""Exchanges: the built-in deterministic `sim`, and `bitmex`/`binance` through ccxt."""

from bots.exchanges.base import Exchange
from bots.exchanges.registry import exchange_classes, get_exchange

__all__ = ["Exchange", "exchange_classes", "get_exchange"]
