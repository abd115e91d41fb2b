"""The dashboard's charts in Chromium: lightweight-charts from the server's own static files
draws a 1-year backtest's price (every trade as a marker) and equity; a running session's
chart grows on the page's poll; Compare overlays runs; a scraper's View Data shows its
archive's calendar and price chart. No request leaves the live server's origin."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import numpy as np
import pytest
from playwright.sync_api import expect

from bots import archive
from bots.candles import Candles
from sessions_app import selectors, services
from sessions_app.models import Session, Trade
from tests.browser.conftest import VIEWPORT
from tests.worker_fixtures import session_ended, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAY = 86_400
YEAR_START = 1_735_689_600  # 2025-01-01 00:00 UTC
YEAR_END = YEAR_START + 365 * DAY


class PageWatch:
    """Console errors, uncaught exceptions and every request the page makes."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.urls: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", lambda request: self.urls.append(request.url))

    def foreign(self, origin: str) -> list[str]:
        own = urlsplit(origin).netloc
        return [url for url in self.urls if urlsplit(url).netloc != own and not url.startswith("data:")]


def _chart_answer(page, session_id: str, query: str = "") -> dict:
    """The chart endpoint as the page's own fetch sees it (the browser's login session)."""
    return page.evaluate(
        "url => fetch(url, {credentials: 'same-origin'}).then(r => r.json())",
        f"/api/sessions/{session_id}/chart{query}",
    )


@pytest.fixture
def year_backtest(worker, operator):
    """A 1-year backtest of 1m candles, run by the real worker to completion."""
    session = services.session_create(
        user=operator,
        data={
            "type": "backtest",
            "name": "A year of XBT",
            "market": "XBTUSD",
            "strategy": "TestBot",
            "timeframe": "1m",
            "range_start": YEAR_START,
            "range_end": YEAR_END,
        },
    )
    services.session_start(session=session)
    ended = wait_for(lambda: session_ended(session.pk), timeout=180, message="the year's backtest")
    assert ended.status == "completed", ended.error
    assert ended.trade_count > 10
    return ended


def test_a_year_backtest_draws_price_and_equity_with_every_trade(
    operator_page, year_backtest, live_server, screenshot
):
    page = operator_page
    watch = PageWatch(page)
    run = selectors.session_best_run(year_backtest)
    trades = Trade.objects.filter(run=run)

    page.goto(f"/sessions/{year_backtest.pk}/")

    price = page.locator('[data-chart="price"]')
    equity = page.locator('[data-chart="equity"]')
    expect(price).to_have_attribute("data-ready", "true")
    expect(equity).to_have_attribute("data-ready", "true")
    assert price.locator("canvas").count() > 0 and equity.locator("canvas").count() > 0
    assert 1000 < int(price.get_attribute("data-candles")) <= 2000
    assert int(equity.get_attribute("data-points")) > 10
    # Every trade of the year is on the chart: an entry and an exit marker each.
    closed = trades.exclude(exit_time=None).count()
    assert int(price.get_attribute("data-markers")) == trades.count() + closed
    expect(page.locator("[data-chart-nojs]").first).to_be_hidden()

    # The endpoint gives as many markers as the run has trades in any window.
    lo, hi = YEAR_START + 100 * DAY, YEAR_START + 130 * DAY
    answer = _chart_answer(page, year_backtest.pk, f"?from={lo}&to={hi}&max_points=2000")
    entries = [m for m in answer["markers"] if m["kind"] == "entry"]
    exits = [m for m in answer["markers"] if m["kind"] == "exit"]
    assert len(entries) == trades.filter(entry_time__gte=lo, entry_time__lt=hi).count() > 0
    assert len(exits) == trades.filter(exit_time__gte=lo, exit_time__lt=hi).count()
    assert answer["interval"] < int(price.get_attribute("data-interval"))  # finer than the year's

    # A trade named in the tooltip when the crosshair is on its candle.
    price.scroll_into_view_if_needed()
    box = price.bounding_box()
    tooltip = price.locator(".chart-tooltip")
    for step in range(1, 60):
        page.mouse.move(box["x"] + box["width"] * step / 70, box["y"] + box["height"] * 0.5)
        if tooltip.is_visible() and "Trade #" in tooltip.inner_text():
            break
    expect(tooltip).to_contain_text("Trade #")
    screenshot(page, "detail-chart-tooltip")
    page.evaluate("window.scrollBy(0, -250)")
    box = price.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5)
    screenshot(page, "detail-crosshair")

    # Zooming in (the mouse wheel) fetches the window's finer candles.
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    for _ in range(12):
        page.mouse.wheel(0, -400)
        page.wait_for_timeout(60)
    expect(price).to_have_attribute("data-zoom-interval", re.compile(r"^\d+$"))
    assert int(price.get_attribute("data-zoom-interval")) < int(price.get_attribute("data-interval"))

    page.mouse.move(0, 0)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "detail")
    screenshot(page, "detail-full", full_page=True)

    # The dark theme: the charts take the page's colours when the system's scheme changes.
    light = price.get_attribute("data-background")
    page.emulate_media(color_scheme="dark")
    expect(price).not_to_have_attribute("data-background", light)
    expect(equity).to_have_attribute("data-background", price.get_attribute("data-background"))
    price.scroll_into_view_if_needed()
    screenshot(page, "detail-dark")
    assert watch.errors == []
    assert watch.foreign(live_server.url) == []


def test_without_javascript_the_detail_page_still_shows_metrics_and_trades(
    browser, operator_page, year_backtest, live_server
):
    cookies = operator_page.context.storage_state()
    context = browser.new_context(java_script_enabled=False, storage_state=cookies, viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/sessions/{year_backtest.pk}/")
        expect(page.get_by_role("heading", name="A year of XBT", level=1)).to_be_visible()
        expect(page.locator(".metric", has_text="Trades")).to_contain_text(f"{year_backtest.trade_count:,}")
        expect(page.locator("#trades tbody tr")).to_have_count(25)
        expect(page.locator("[data-chart-nojs]").first).to_be_visible()
        assert page.locator('[data-chart="price"] canvas').count() == 0
    finally:
        context.close()


def test_a_running_sessions_chart_gains_candles_while_it_runs(operator_page, worker, operator, live_server):
    page = operator_page
    watch = PageWatch(page)
    session = services.session_create(
        user=operator,
        data={
            "type": "test",
            "name": "Live 1s",
            "market": "XBTUSD",
            "strategy": "TestBot",
            "timeframe": "1s",
        },
    )
    services.session_start(session=session)
    wait_for(lambda: Session.objects.get(pk=session.pk).worker, timeout=30, message="the worker to claim it")

    page.goto(f"/sessions/{session.pk}/")
    price = page.locator('[data-chart="price"]')
    expect(price).to_have_attribute("data-ready", "true")
    first = int(price.get_attribute("data-candles"))
    assert first > 100  # the candles before its start, for context
    # The page's 2 s poll of #detail-live brings the candles that closed since.
    page.wait_for_function(
        "n => Number(document.querySelector('[data-chart=\"price\"]').dataset.candles) >= n + 3",
        arg=first,
        timeout=30_000,
    )
    assert price.locator("canvas").count() > 0

    services.session_stop(session=Session.objects.get(pk=session.pk))
    wait_for(lambda: session_ended(session.pk), timeout=30, message="the stop")
    assert watch.errors == []
    assert watch.foreign(live_server.url) == []


def test_compare_overlays_the_equity_curves_of_two_runs(
    operator_page, worker, operator, live_server, screenshot
):
    page = operator_page
    watch = PageWatch(page)
    runs = []
    for name, threshold in (("Month of XBT, 0.3", 0.3), ("Month of XBT, 0.8", 0.8)):
        session = services.session_create(
            user=operator,
            data={
                "type": "backtest",
                "name": name,
                "market": "XBTUSD",
                "strategy_params": {"threshold": threshold},
                "strategy": "TestBot",
                "range_start": YEAR_START,
                "range_end": YEAR_START + 30 * DAY,
            },
        )
        services.session_start(session=session)
        ended = wait_for(lambda s=session: session_ended(s.pk), timeout=60, message=name)
        assert ended.status == "completed", ended.error
        runs.append(selectors.session_best_run(ended))

    page.goto(f"/compare/?runs={runs[0].pk},{runs[1].pk}")

    chart = page.locator('[data-chart="compare"]')
    expect(chart).to_have_attribute("data-ready", "true")
    expect(chart).to_have_attribute("data-series", "2")
    assert chart.locator("canvas").count() > 0
    expect(page.locator("ul.legend li")).to_have_count(2)
    expect(page.get_by_role("img", name="Equity curves in XBT")).to_have_count(1)
    chart.scroll_into_view_if_needed()
    screenshot(page, "compare-chart")
    screenshot(page, "compare", full_page=True)
    assert watch.errors == []
    assert watch.foreign(live_server.url) == []


def test_a_scrapers_view_data_shows_its_archive_calendar_with_gaps_and_its_price(
    operator_page, operator, data_root, live_server, screenshot
):
    page = operator_page
    watch = PageWatch(page)
    start = int(time.time()) // DAY * DAY - 40 * DAY
    times = np.arange(start, start + 40 * DAY, 60, dtype=np.int64)
    # Day 12 missing entirely, day 25 with six hours missing.
    day = (times - start) // DAY
    hour = (times - start) % DAY // 3600
    keep = (day != 12) & ~((day == 25) & (hour < 6))
    times = times[keep]
    close = 90_000 * np.exp(np.cumsum(np.random.default_rng(3).normal(0, 0.0008, len(times))))
    candles = Candles(times, close, close * 1.0006, close * 0.9994, close, np.full(len(times), 2.0))
    archive.write(data_root, "sim", "XBTUSD", "1m", candles)
    session = services.session_create(
        user=operator, data={"type": "scraper", "market": "XBTUSD", "strategy": "MarketScraper"}
    )

    page.goto(f"/sessions/{session.pk}/")

    calendar = page.locator(".calendar")
    expect(calendar.locator(".cal-day")).to_have_count(40)
    gaps = calendar.locator('.cal-day[data-gap="true"]')
    expect(gaps).to_have_count(2)
    assert [gaps.nth(k).get_attribute("data-count") for k in range(2)] == ["0", str(1440 - 360)]
    expect(calendar.locator(".cal-full")).to_have_count(38)
    price = page.locator('[data-chart="price"]')
    expect(price).to_have_attribute("data-ready", "true")
    assert int(price.get_attribute("data-candles")) > 500
    assert price.locator("canvas").count() > 0
    screenshot(page, "scraper-data", full_page=True)
    assert watch.errors == []
    assert watch.foreign(live_server.url) == []
