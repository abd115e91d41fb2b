"""Binance public candles and market metadata, through ccxt; its perpetuals' funding rates."""

from __future__ import annotations

import ccxt

from bots.exchanges.base import Capability, ExchangeError
from bots.exchanges.ccxt_exchange import CcxtExchange
from bots.funding import FundingRates


class BinanceExchange(CcxtExchange):
    """Binance spot klines and exchangeInfo; funding of the USDT-margined perpetuals (fapi)."""

    name = "binance"
    label = "Binance"
    markets = ("BTCUSDT", "ETHUSDT")
    url_setting = "BINANCE_URL"
    capabilities = frozenset(
        {Capability.LIVE_FEED, Capability.DOWNLOAD, Capability.MARKET_METADATA, Capability.FUNDING_HISTORY}
    )
    ccxt_id = "binance"
    funding_page_limit = 1000  # GET /fapi/v1/fundingRate's most rows a request

    def fetch_funding(self, symbol: str, start: int, end: int) -> FundingRates:
        """Rates of GET /fapi/v1/fundingRate (the perpetual of the same symbol) with time in
        [start, end), paged. Binance stamps a rate a few milliseconds after its funding time
        (1700006400008): times are rounded to the nearest second."""
        limit = min(self.funding_page_limit, self.page_limit)
        pairs: list[tuple[int, float]] = []
        since = int(start)
        while since < end:
            query = {
                "symbol": symbol,
                "startTime": since * 1000,
                "endTime": int(end) * 1000 - 1,
                "limit": limit,
            }
            try:
                rows = self.client.fapiPublicGetFundingRate(query)
            except ccxt.BaseError as exc:
                raise ExchangeError(f"{self.name} {symbol} funding: {exc}") from exc
            if not isinstance(rows, list):
                raise ExchangeError(f"{self.name} {symbol} funding: unexpected answer {str(rows)[:200]}")
            page = [((int(r["fundingTime"]) + 500) // 1000, float(r["fundingRate"])) for r in rows]
            pairs.extend((t, rate) for t, rate in page if since <= t < end)
            if len(rows) < limit or not page or page[-1][0] < since:
                break
            since = page[-1][0] + 1
        return FundingRates.from_pairs(pairs)
