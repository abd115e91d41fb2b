"""Binance public candles and market metadata, through ccxt."""

from __future__ import annotations

from bots.exchanges.base import Capability
from bots.exchanges.ccxt_exchange import CcxtExchange


class BinanceExchange(CcxtExchange):
    """Binance spot klines and exchangeInfo."""

    name = "binance"
    label = "Binance"
    markets = ("BTCUSDT", "ETHUSDT")
    url_setting = "BINANCE_URL"
    capabilities = frozenset({Capability.LIVE_FEED, Capability.DOWNLOAD, Capability.MARKET_METADATA})
    ccxt_id = "binance"
