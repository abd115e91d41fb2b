"""Scraper sessions: the live feed recorded into the archive until stopped."""

from __future__ import annotations

from django.conf import settings

from bots import runner as engine
from sessions_app.runner.live import LiveRunner


class ScraperRunner(LiveRunner):
    """Resumed, a scraper records from now on: its archive writes are idempotent."""

    def _engine(self, config: engine.RunConfig, feed) -> engine.Result:
        return engine.run_scraper(config, feed, self.sink, archive_root=str(settings.DATA_ROOT))
