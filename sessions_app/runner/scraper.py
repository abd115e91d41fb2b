"""Scraper sessions: the live feed recorded into the archive until stopped.

A scraper that starts (again, or resumed after its worker stopped) backfills: its feed starts
at the candle after the archive's newest one for its markets and timeframe, so the candles
missed while it was down are fetched at once and recorded, nothing twice (archive writes are
idempotent). See docs/operations.md.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from django.conf import settings

from bots import runner as engine
from bots.candles import timeframe_seconds
from sessions_app.models import Run
from sessions_app.runner.live import LiveRunner
from strategies_app.market_data import archive_last_time

# The longest gap a scraper backfills by itself; an older archive is filled from that far back
# (`download_candles` fetches any range).
BACKFILL_MAX_SECONDS = 7 * 86_400


class ScraperRunner(LiveRunner):
    """Records the live feed into the archive, from the candle after the archive's newest."""

    def _resume(self, run: Run, markets: list) -> int | None:
        return self._backfill_start(markets)

    def _backfill_start(self, markets: list) -> int | None:
        """The open time after the newest archived candle of the scraper's markets (the
        oldest such of its markets), within BACKFILL_MAX_SECONDS and not before range_start;
        None when nothing is archived (the feed starts from now)."""
        session, sink = self.session, self.sink
        tf = timeframe_seconds(session.timeframe)
        latest = [
            archive_last_time(exchange=session.exchange, symbol=m.symbol, timeframe=session.timeframe)
            for m in markets
        ]
        known = [t for t in latest if t is not None]
        if not known:
            return None
        newest = min(known)
        start = newest + tf
        now = math.ceil(time.time() / tf) * tf  # the next candle to open
        oldest = now - BACKFILL_MAX_SECONDS // tf * tf
        if start < oldest:
            sink.log(
                f"The archive ends at {_iso(newest)}, more than {BACKFILL_MAX_SECONDS // 86_400} days "
                f"ago: backfilling from {_iso(oldest)} (download_candles fetches the rest)."
            )
            start = oldest
        if session.range_start is not None:
            start = max(start, -(-int(session.range_start) // tf) * tf)
        if start < now:
            sink.log(
                f"Backfill: the archive's newest {session.timeframe} candle opened at {_iso(newest)}; "
                f"the {(now - start) // tf} candles from {_iso(start)} on are fetched first."
            )
        return start

    def _engine(self, config: engine.RunConfig, feed) -> engine.Result:
        return engine.run_scraper(config, feed, self.sink, archive_root=str(settings.DATA_ROOT))


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat()
