"""The small base class every exchange subclasses: history by range, and a live feed."""

from __future__ import annotations

import math
import time as _time
from collections.abc import Callable, Iterator
from typing import ClassVar

from bots.candles import Candles, timeframe_seconds
from bots.markets import Listing, MarketSpec, market_spec


class Exchange:
    """Public market data of one exchange. Never places orders."""

    name: ClassVar[str]
    # Seconds between polls of fetch_candles by the generic live feed.
    poll_seconds: ClassVar[float] = 2.0
    # Most candles one live item carries while catching up from a past start.
    max_batch: ClassVar[int] = 10_000
    # Consecutive failed fetches after which the live feed gives up (raises).
    max_failures: ClassVar[int] = 8

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
        """
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
