"""The `local` exchange: candles imported from files (`manage.py import_candles`).

It has no source of its own: its candles are whatever was imported into the archive, so
only backtests run on it (no live feed), and there is nothing to download or refresh.
"""

from __future__ import annotations

from bots.candles import Candles
from bots.exchanges.base import Capability, Exchange, ExchangeError


class LocalExchange(Exchange):
    """Imported candles: read from the archive by bots.data, never fetched."""

    name = "local"
    label = "Imported data"
    # Its markets are the ones imported (import_candles creates each row): none to seed.
    markets = ()
    capabilities = frozenset({Capability.IMPORTED})

    def fetch_candles(self, symbol: str, timeframe: str, start: int | None, end: int | None) -> Candles:
        raise ExchangeError(
            f"{self.name} has no source to fetch {symbol} from: its candles are imported into "
            "the archive (manage.py import_candles)."
        )
