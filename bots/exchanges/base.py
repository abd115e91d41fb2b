"""The small base class every exchange subclasses: its facts, history by range, a live feed.

An exchange is one module under bots/exchanges/ whose `Exchange` subclass says what it is
(name, label, markets, the setting holding its URL, capabilities); bots.exchanges.registry
lists the classes, and everything else asks the registry (docs/architecture.md).
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import ClassVar

from bots.candles import Candles, timeframe_seconds
from bots.funding import FundingRates
from bots.markets import Listing, MarketSpec, market_spec


class Capability(StrEnum):
    """What an exchange can do; the product asks these instead of naming exchanges."""

    # Candles are a pure function of (market, timeframe, time), computed on demand for any
    # range and timeframe: no archive is needed, and a run's data fingerprint is the
    # generator's version rather than a hash of the arrays.
    GENERATED = "generated candles"
    # A live feed (Exchange.live): test and scraper sessions can run on it.
    LIVE_FEED = "live feed"
    # Public history by range that `manage.py download_candles` can fetch into the archive.
    DOWNLOAD = "downloadable history"
    # Market metadata of its own (contract type, multiplier, tick size) for `refresh_markets`.
    MARKET_METADATA = "market metadata"
    # Holds what `manage.py import_candles` imports: its candles are imported files only.
    IMPORTED = "imported candles"
    # Public funding rates of its perpetuals by range (Exchange.fetch_funding), which
    # `manage.py download_candles --funding` fetches into the archive beside the candles.
    FUNDING_HISTORY = "funding rate history"


class ExchangeError(RuntimeError):
    """The exchange did not give us the candles (network, HTTP error, unsupported timeframe)."""


def drop_unclosed(candles: Candles, tf: int, now: float) -> Candles:
    """Only candles that have closed by `now`."""
    return candles[candles.time + tf <= now]


class Exchange:
    """Public market data of one exchange. Never places orders."""

    name: ClassVar[str]
    label: ClassVar[str]
    # The markets the engine lists on this exchange (their specs are bots.markets.KNOWN_MARKETS),
    # in the order their rows are seeded; `refresh_markets` creates these unless told --all.
    markets: ClassVar[tuple[str, ...]] = ()
    # The setting (an environment variable) holding the API base URL; None: no network.
    # Its value is read by the Django side and passed in as `base_url`.
    url_setting: ClassVar[str | None] = None
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    # Generated exchanges: raise it whenever a change changes any candle (runs' data
    # fingerprints include it, so runs computed on the old candles are no longer reused).
    generator_version: ClassVar[int] = 0

    # Seconds between polls of fetch_candles by the generic live feed.
    poll_seconds: ClassVar[float] = 2.0
    # Most candles one live item carries while catching up from a past start.
    max_batch: ClassVar[int] = 10_000
    # Consecutive failed fetches after which the live feed gives up (raises).
    max_failures: ClassVar[int] = 8

    @classmethod
    def can(cls, capability: Capability) -> bool:
        return capability in cls.capabilities

    def fetch_candles(self, symbol: str, timeframe: str, start: int | None, end: int | None) -> Candles:
        """Closed candles of `symbol` whose open time is in [start, end)."""
        raise NotImplementedError

    def market_spec(self, symbol: str) -> MarketSpec:
        return market_spec(symbol)

    def fetch_markets(self) -> list[Listing]:
        """Every market the exchange lists, from its own metadata (contract type, multiplier,
        settle currency, tick size); exchanges without such metadata list none."""
        return []

    def live(
        self,
        symbols: list[str],
        timeframe: str,
        start: int | None = None,
        *,
        clock: Callable[[], float] = _time.time,
        sleep: Callable[[float], None] = _time.sleep,
        tick: float = 0.5,
    ) -> Iterator[list[Candles] | None]:
        """Yield each candle as it closes (a list with one Candles per symbol), and None
        every `tick` seconds (at most) while waiting, so the consumer can check for stop.

        Starts with the candle opening at `start` (catching up on past candles at once), or
        by default with the first candle that opens after the call. A failing fetch is
        retried with a growing pause; `max_failures` failures in a row raise the last error.
        An exchange without a live feed raises ExchangeError here, before anything is polled.
        """
        if not self.can(Capability.LIVE_FEED):
            raise ExchangeError(f"{self.label} ({self.name}) has no live feed.")
        return self._poll(symbols, timeframe, start, clock, sleep, tick)

    def _poll(
        self,
        symbols: list[str],
        timeframe: str,
        start: int | None,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        tick: float,
    ) -> Iterator[list[Candles] | None]:
        tf = timeframe_seconds(timeframe)
        next_open = start if start is not None else math.ceil(clock() / tf) * tf
        next_open -= next_open % tf
        last_poll = -math.inf
        failures = 0
        pause = self.poll_seconds
        while True:
            now = clock()
            last_closed = math.floor(now / tf) * tf - tf  # open time of the newest closed candle
            if next_open <= last_closed and now - last_poll >= pause:
                last_poll = now
                end = min(last_closed + tf, next_open + self.max_batch * tf)
                try:
                    batch = [self.fetch_candles(s, timeframe, next_open, end) for s in symbols]
                except Exception:
                    failures += 1
                    if failures >= self.max_failures:
                        raise
                    pause = min(60.0, max(1.0, self.poll_seconds) * 2**failures)
                    batch = []
                else:
                    failures, pause = 0, self.poll_seconds
                if batch and all(len(c) for c in batch):
                    next_open = min(int(c.time[-1]) for c in batch) + tf
                    yield batch
                    continue
            if next_open <= last_closed:
                wait = pause - (now - last_poll)
            else:
                wait = next_open + tf - now
            sleep(max(0.0, min(tick, wait)))
            yield None

    def fetch_funding(self, symbol: str, start: int, end: int) -> FundingRates:
        """Funding rates of `symbol` with time in [start, end), at the exchange's own funding
        times; none by default (an exchange without FUNDING_HISTORY publishes none)."""
        return FundingRates.empty()
