"""The base of exchanges reached through ccxt: public OHLCV only (no keys, never an order).

`base_url` rebases every API host of the ccxt client (tests point it at a local HTTP server
that serves recorded responses). Markets are declared to ccxt directly from our symbols, so
no market-list download is needed before the first candle request.
"""

from __future__ import annotations

import time as _time
from typing import Any, ClassVar
from urllib.parse import urlsplit

import ccxt

from bots.candles import Candles, concat, timeframe_seconds
from bots.exchanges.base import Exchange, ExchangeError, drop_unclosed
from bots.markets import INVERSE, LINEAR, Listing, MarketSpec, check_symbol


def rebase_urls(urls: Any, base_url: str) -> Any:
    """Every absolute URL in a (nested) ccxt `urls['api']` moved to `base_url`, path kept."""
    if isinstance(urls, dict):
        return {key: rebase_urls(value, base_url) for key, value in urls.items()}
    if isinstance(urls, str) and urls.startswith(("http://", "https://")):
        parts = urlsplit(urls)
        return base_url.rstrip("/") + parts.path
    return urls


def ccxt_listing(market: dict[str, Any]) -> Listing | None:
    """A ccxt unified market as ours: its exchange id is the symbol; None when unusable."""
    symbol = market.get("id")
    tick = (market.get("precision") or {}).get("price")
    try:
        check_symbol(symbol)
    except ValueError:
        return None
    if not tick:
        return None
    quote = market.get("quote") or ""
    settle = market.get("settle") or quote
    contract = INVERSE if market.get("inverse") else LINEAR
    spec = MarketSpec(
        symbol,
        market.get("base") or symbol,
        quote,
        settle,
        contract,
        float(tick),
        **ccxt_account_rules(market),
    )
    return Listing(spec, market.get("active") is not False)


def ccxt_account_rules(market: dict[str, Any]) -> dict[str, Any]:
    """A ccxt market's lot (its amount step, else its minimum amount), maximum leverage
    (limits.leverage.max; a spot market without one trades unlevered: 1), maintenance margin
    (maintenanceMarginRate, a fraction, or Binance futures' maintMarginPercent, as a percent)
    and whether it is a perpetual swap; the spec's defaults for the rest."""
    limits = market.get("limits") or {}
    rules: dict[str, Any] = {"perpetual": bool(market.get("swap"))}
    lot = _positive((market.get("precision") or {}).get("amount")) or _positive(
        (limits.get("amount") or {}).get("min")
    )
    if lot is not None:
        rules["lot_size"] = lot
    leverage = _positive((limits.get("leverage") or {}).get("max"))
    if leverage is not None:
        rules["max_leverage"] = max(1.0, leverage)
    elif market.get("spot") or market.get("type") == "spot":
        rules["max_leverage"] = 1.0
    rate = _number(market.get("maintenanceMarginRate"))
    percent = _positive((market.get("info") or {}).get("maintMarginPercent"))  # Binance futures
    if rate is None and percent is not None:
        rate = percent / 100
    if rate is not None and 0 <= rate < 1:
        rules["maintenance_margin_pct"] = round(rate * 100, 6)
    return rules


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _positive(value: Any) -> float | None:
    number = _number(value)
    return number if number is not None and number > 0 else None


class CcxtExchange(Exchange):
    """Public candles of one ccxt exchange: a subclass names it (`ccxt_id`) and its facts."""

    ccxt_id: ClassVar[str]
    page_limit: ClassVar[int] = 1000

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 10.0,
        page_limit: int | None = None,
        rate_limit: bool = True,
    ):
        factory = getattr(ccxt, self.ccxt_id, None)
        if factory is None:
            raise ExchangeError(f"This ccxt ({ccxt.__version__}) has no {self.ccxt_id!r} exchange.")
        self.client = factory({"enableRateLimit": rate_limit, "timeout": int(timeout * 1000)})
        if base_url:
            self.client.urls["api"] = rebase_urls(self.client.urls["api"], base_url)
        if page_limit:
            self.page_limit = page_limit
        self._declared: set[str] = set()

    def ccxt_market(self, spec: MarketSpec) -> dict[str, Any]:
        """The market structure ccxt needs to build a candle request for `spec`."""
        return {
            "id": spec.symbol,
            "symbol": spec.symbol,
            "base": spec.base,
            "quote": spec.quote,
            "settle": None,
            "baseId": spec.base,
            "quoteId": spec.quote,
            "type": "spot",
            "spot": True,
            "margin": False,
            "swap": False,
            "future": False,
            "option": False,
            "contract": False,
            "linear": None,
            "inverse": None,
            "active": True,
            "precision": {"price": spec.tick_size},
            "limits": {},
            "info": {},
        }

    # Which of the exchange's market lists load_markets() reads (ccxt's option names).
    market_types: ClassVar[list[str]] = ["spot"]

    def fetch_markets(self) -> list[Listing]:
        """The exchange's markets from ccxt's load_markets(), by exchange id (BTCUSDT)."""
        client = getattr(ccxt, self.ccxt_id)({"enableRateLimit": False, "timeout": self.client.timeout})
        client.urls["api"] = self.client.urls["api"]
        client.options["fetchMarkets"] = {
            **client.options.get("fetchMarkets", {}),
            "types": self.market_types,
        }
        try:
            markets = client.load_markets()
        except ccxt.BaseError as exc:
            raise ExchangeError(f"{self.name} markets: {exc}") from exc
        listings: dict[str, Listing] = {}
        for market in markets.values():
            listing = ccxt_listing(market)
            if listing is not None and listing.spec.symbol not in listings:
                listings[listing.spec.symbol] = listing
        return list(listings.values())

    def _declare(self, symbol: str) -> None:
        if symbol in self._declared:
            return
        spec = self.market_spec(symbol)
        markets = [self.ccxt_market(self.market_spec(s)) for s in sorted(self._declared)]
        self.client.set_markets(markets + [self.ccxt_market(spec)])
        self._declared.add(symbol)

    def fetch_candles(self, symbol: str, timeframe: str, start: int | None, end: int | None) -> Candles:
        tf = timeframe_seconds(timeframe)
        if timeframe not in self.client.timeframes:
            raise ExchangeError(f"{self.name} has no {timeframe} candles.")
        now = _time.time()
        end = int(now) if end is None else int(end)
        since = 0 if start is None else int(start)
        self._declare(symbol)
        pages = []
        while since < end:
            try:
                rows = self.client.fetch_ohlcv(symbol, timeframe, since * 1000, self.page_limit)
            except ccxt.BaseError as exc:
                raise ExchangeError(f"{self.name} {symbol} {timeframe}: {exc}") from exc
            if not rows:
                break
            page = Candles.from_rows([(r[0] // 1000, r[1], r[2], r[3], r[4], r[5] or 0.0) for r in rows])
            page = page[(page.time >= since) & (page.time < end)]
            pages.append(page)
            last = int(rows[-1][0]) // 1000
            if last + tf <= since or len(page) == 0:
                break
            since = last + tf
        candles = concat(pages).sorted_unique()
        return drop_unclosed(candles, tf, now)
