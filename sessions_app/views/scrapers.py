"""Scrapers: the running ones, the markets not scraped yet, and Start Scraping."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from sessions_app import selectors, services
from sessions_app.errors import ServiceError
from sessions_app.views.htmx import _done, _refused, base_context, is_partial, operate_required
from strategies_app.market_data import archive_last_time


def _scrapers_context(request: HttpRequest) -> dict[str, Any]:
    services.sessions_reap_lazily()
    active = selectors.scrapers_running()
    exchange = settings.DEFAULT_EXCHANGE
    scraping = {leg for s in active if s.exchange == exchange for leg in s.market_legs}
    available = [
        {"market": market, "last_time": archive_last_time(exchange=exchange, symbol=market.symbol)}
        for market in selectors.market_list(exchange=exchange)
        if market.symbol not in scraping
    ]
    return {
        **base_context(request, "scrapers"),
        "scraper_rows": selectors.session_rows(sessions=active),
        "available": available,
        "exchange": exchange,
    }


@require_GET
@vary_on_headers("HX-Request")
def scrapers(request):
    context = _scrapers_context(request)
    if is_partial(request):
        return render(request, "sessions/_scrapers.html", context)
    return render(request, "sessions/scrapers.html", context)


@operate_required
def scraper_start(request):
    """Start Scraping: one click creates a MarketScraper session for the market and starts it."""
    market = request.POST.get("market", "")
    try:
        session = services.scraper_start(user=request.user, market=market)
    except ServiceError as error:
        return _refused(request, error)
    return _done(request, f"Scraping {market}: {session.name} started.")
