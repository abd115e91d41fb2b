"""BitMEX public candles over its REST API (`/api/v1/trade/bucketed`).

The installed ccxt (4.5.90) no longer ships a BitMEX exchange, so this one talks to the
public endpoint directly (stdlib HTTP, no keys, never an order). BitMEX stamps a bucket with
its *close* time; we store open times. It offers 1m/5m/1h/1d buckets; 15m and 4h are built
from 5m and 1h.
"""

from __future__ import annotations

import datetime as dt
import json
import time as _time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

import numpy as np

from bots.candles import TIMEFRAMES, Candles, concat, timeframe_seconds
from bots.exchanges.base import Capability, Exchange, ExchangeError, drop_unclosed
from bots.funding import FundingRates
from bots.markets import INVERSE, LINEAR, QUANTO, SETTLE_UNITS, Listing, MarketSpec, check_symbol

BIN_SIZES = {"1m": "1m", "5m": "5m", "1h": "1h", "1d": "1d"}
BUILT_FROM = {"15m": "5m", "4h": "1h"}


def _iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _parse_iso(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def resample(candles: Candles, source: str, timeframe: str) -> Candles:
    """Aggregate `source` candles into complete `timeframe` candles (incomplete ones dropped)."""
    tf, per = timeframe_seconds(timeframe), timeframe_seconds(timeframe) // timeframe_seconds(source)
    if len(candles) == 0:
        return candles
    group = candles.time // tf
    starts = np.flatnonzero(np.concatenate([[True], np.diff(group) != 0]))
    ends = np.concatenate([starts[1:], [len(candles)]]) - 1
    merged = Candles(
        group[starts] * tf,
        candles.open[starts],
        np.maximum.reduceat(candles.high, starts),
        np.minimum.reduceat(candles.low, starts),
        candles.close[ends],
        np.add.reduceat(candles.volume, starts),
    )
    return merged[(ends - starts + 1) == per]


def instrument_listing(row: dict) -> Listing | None:
    """A BitMEX instrument as a market; None for what the engine cannot trade (an index, a
    symbol that is no directory name, a missing price increment). Its account rules (lot,
    leverage, maintenance margin, funding) are read by `_account_rules`.

    BitMEX counts XBT in satoshis (settlCurrency "XBt") and gives `multiplier` in those units
    per contract: ETHUSD's 100 is 100 satoshis, 1e-6 XBT, per USD of price per contract. Inverse
    contracts (XBTUSD) are $1 each: their multiplier is the engine's usual 1.
    """
    symbol, tick = row.get("symbol"), row.get("tickSize")
    if not symbol or not tick or row.get("typ") in ("MRCXXX", "MRRXXX", "MRIXXX"):  # indices
        return None
    try:
        check_symbol(symbol)
    except ValueError:
        return None
    raw_settle = row.get("settlCurrency") or row.get("quoteCurrency") or ""
    settle, units = SETTLE_UNITS.get(raw_settle, (raw_settle.upper(), 1.0))
    base = (row.get("underlying") or row.get("rootSymbol") or symbol).upper()
    quote = (row.get("quoteCurrency") or "USD").upper()
    if row.get("isInverse"):
        contract, multiplier = INVERSE, 1.0
    elif row.get("isQuanto"):
        contract, multiplier = QUANTO, abs(float(row.get("multiplier") or 0)) / units
    else:
        contract, multiplier = LINEAR, 1.0
    if not multiplier > 0:
        return None
    spec = MarketSpec(symbol, base, quote, settle, contract, float(tick), multiplier, **_account_rules(row))
    return Listing(spec, row.get("state") == "Open")


# BitMEX's type code of a perpetual swap (FFCCSX is a dated future, MRCXXX an index...).
PERPETUAL_TYPE = "FFWCSX"
_INTERVAL_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _account_rules(row: dict) -> dict:
    """An instrument's lot, maximum leverage (1 / initMargin), maintenance margin (maintMargin,
    a fraction, as a percent), whether it is a perpetual and its funding interval (BitMEX
    writes 8 hours as the time "2000-01-01T08:00:00.000Z"); the spec's defaults for what the
    row leaves out. A linear contract's lotSize counts position units of
    underlyingToPositionMultiplier per coin (XBTUSDT: 1000 of 1e6 = 0.001 XBT)."""
    rules: dict = {"perpetual": row.get("typ") == PERPETUAL_TYPE}
    lot = _positive(row.get("lotSize"))
    if lot is not None:
        per_unit = _positive(row.get("underlyingToPositionMultiplier"))
        rules["lot_size"] = lot / per_unit if per_unit and not row.get("isInverse") else lot
    init_margin = _positive(row.get("initMargin"))
    if init_margin is not None:
        rules["max_leverage"] = max(1.0, round(1.0 / init_margin, 4))
    maint_margin = row.get("maintMargin")
    if isinstance(maint_margin, int | float) and 0 <= maint_margin < 1:
        rules["maintenance_margin_pct"] = round(maint_margin * 100, 6)
    interval = row.get("fundingInterval")
    if isinstance(interval, str):
        try:
            hours = (
                dt.datetime.fromisoformat(interval.replace("Z", "+00:00")) - _INTERVAL_EPOCH
            ).total_seconds() / 3600
        except ValueError:
            hours = 0.0
        if hours > 0:
            rules["funding_interval_hours"] = hours
    return rules


def _positive(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        return None
    return float(value)


class BitmexExchange(Exchange):
    """BitMEX public trade buckets."""

    name = "bitmex"
    label = "BitMEX"
    markets = ("XBTUSD", "ETHUSD", "SOLUSD", "XRPUSD", "DOGEUSD")
    url_setting = "BITMEX_URL"
    capabilities = frozenset(
        {Capability.LIVE_FEED, Capability.DOWNLOAD, Capability.MARKET_METADATA, Capability.FUNDING_HISTORY}
    )
    page_limit = 1000
    funding_page_limit = 500  # /api/v1/funding's most rows a request

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 10.0,
        page_limit: int | None = None,
        pause: float = 1.0,
        sleep: Callable[[float], None] = _time.sleep,
    ):
        self.base_url = (base_url or "https://www.bitmex.com").rstrip("/")
        self.timeout = timeout
        self.pause = pause  # between pages: BitMEX allows ~30 anonymous requests a minute
        self.sleep = sleep
        if page_limit:
            self.page_limit = page_limit

    def _get(self, path: str, query: dict) -> list:
        url = f"{self.base_url}{path}?{urllib.parse.urlencode(query)}"
        request = urllib.request.Request(
            url, headers={"User-Agent": "bots/1.0", "Accept": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:200]
            raise ExchangeError(f"bitmex {path}: HTTP {exc.code} {detail}") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ExchangeError(f"bitmex {path}: {exc}") from exc

    def fetch_markets(self) -> list[Listing]:
        """The open instruments of /api/v1/instrument, as markets (paged, 500 a page)."""
        listings: list[Listing] = []
        start = 0
        while True:
            rows = self._get(
                "/api/v1/instrument",
                {"filter": json.dumps({"state": "Open"}), "count": 500, "start": start, "reverse": "false"},
            )
            if not isinstance(rows, list):
                raise ExchangeError(f"bitmex: unexpected answer {str(rows)[:200]}")
            for row in rows:
                listing = instrument_listing(row)
                if listing is not None:
                    listings.append(listing)
            if len(rows) < 500:
                return listings
            start += len(rows)
            if self.pause:
                self.sleep(self.pause)

    def fetch_candles(self, symbol: str, timeframe: str, start: int | None, end: int | None) -> Candles:
        if timeframe in BUILT_FROM:
            tf = timeframe_seconds(timeframe)
            lo = None if start is None else start - start % tf
            hi = None if end is None else -(-end // tf) * tf
            small = self.fetch_candles(symbol, BUILT_FROM[timeframe], lo, hi)
            return resample(small, BUILT_FROM[timeframe], timeframe).between(start, end)
        if timeframe not in BIN_SIZES:
            raise ExchangeError(f"bitmex has no {timeframe} candles.")
        tf = TIMEFRAMES[timeframe]
        now = _time.time()
        end = int(now) if end is None else int(end)
        since = 0 if start is None else int(start)
        pages = []
        first = True
        while since < end:
            if not first and self.pause:
                self.sleep(self.pause)
            first = False
            rows = self._get(
                "/api/v1/trade/bucketed",
                {
                    "binSize": BIN_SIZES[timeframe],
                    "partial": "false",
                    "symbol": symbol,
                    "count": self.page_limit,
                    "reverse": "false",
                    # Buckets are stamped with their close: open time t is stamp t + tf.
                    "startTime": _iso(since + tf),
                    "endTime": _iso(end),
                },
            )
            if not isinstance(rows, list):
                raise ExchangeError(f"bitmex: unexpected answer {str(rows)[:200]}")
            if not rows:
                break
            page = Candles.from_rows(
                [
                    (
                        _parse_iso(r["timestamp"]) - tf,
                        r["open"],
                        r["high"],
                        r["low"],
                        r["close"],
                        r.get("volume") or 0.0,
                    )
                    for r in rows
                    if r.get("open") is not None
                ]
            )
            page = page.between(since, end)
            pages.append(page)
            last = _parse_iso(rows[-1]["timestamp"]) - tf
            if len(rows) < self.page_limit or last + tf <= since:
                break
            since = last + tf
        return drop_unclosed(concat(pages).sorted_unique(), tf, now)

    def fetch_funding(self, symbol: str, start: int, end: int) -> FundingRates:
        """Rates of /api/v1/funding with time in [start, end), paged (500 a page); BitMEX
        stamps each with its funding time (04:00, 12:00, 20:00 UTC for XBTUSD)."""
        count = min(self.funding_page_limit, self.page_limit)
        pairs: list[tuple[int, float]] = []
        since, first = int(start), True
        while since < end:
            if not first and self.pause:
                self.sleep(self.pause)
            first = False
            query = {"symbol": symbol, "count": count, "reverse": "false"}
            query |= {"startTime": _iso(since), "endTime": _iso(int(end))}
            rows = self._get("/api/v1/funding", query)
            if not isinstance(rows, list):
                raise ExchangeError(f"bitmex: unexpected answer {str(rows)[:200]}")
            page = [
                (_parse_iso(r["timestamp"]), float(r["fundingRate"]))
                for r in rows
                if r.get("timestamp") and r.get("fundingRate") is not None
            ]
            pairs.extend((t, rate) for t, rate in page if since <= t < end)
            if len(rows) < count or not page or page[-1][0] < since:
                break
            since = page[-1][0] + 1
        return FundingRates.from_pairs(pairs)
