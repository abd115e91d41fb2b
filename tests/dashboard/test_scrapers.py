"""The Scrapers tab: active scrapers with their archive, markets to start scraping."""

import json

from django.conf import settings

from sessions_app.models import Session
from tests.dashboard.conftest import HTMX


def test_start_scraping_creates_and_starts_a_scraper(operator_client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = operator_client.post("/scrapers/start/", {"market": "SOLUSD"}, **HTMX)

    assert response.status_code == 204
    assert json.loads(response["HX-Trigger"])["sessionsChanged"] is True
    session = Session.objects.get()
    assert (session.type, session.strategy, session.market, session.status) == (
        "scraper",
        "MarketScraper",
        "SOLUSD",
        "running",
    )


def test_start_scraping_beyond_the_limit_leaves_nothing_behind(
    operator_client, new_session, settings, django_capture_on_commit_callbacks
):
    settings.SESSION_LIMITS = {"test": 3, "backtest": 1, "scraper": 1}
    new_session(status="running", type="scraper", market="XBTUSD")

    with django_capture_on_commit_callbacks(execute=False):
        response = operator_client.post("/scrapers/start/", {"market": "SOLUSD"}, **HTMX)

    assert response.status_code == 409
    assert Session.objects.count() == 1


def test_start_scraping_an_unknown_market_is_refused(operator_client, db):
    response = operator_client.post("/scrapers/start/", {"market": "NOPE"}, **HTMX)

    assert response.status_code == 400
    assert "Unknown market" in json.loads(response["HX-Trigger"])["notify"]["message"]
    assert Session.objects.count() == 0


def test_the_tab_lists_active_scrapers_and_the_other_markets(operator_client, new_session):
    scraper = new_session(status="running", type="scraper", market="XBTUSD")
    Session.objects.filter(pk=scraper.pk).update(progress_done=8432)

    html = operator_client.get("/scrapers/").content.decode()

    assert "ACTIVE SCRAPERS (1)" in html
    assert "AVAILABLE MARKETS (not scraping)" in html
    assert "8,432 data points" in html
    assert f"{settings.DATA_ROOT}/archive/sim/XBTUSD/" in html
    assert ">View Data<" in html
    assert 'data-market="XBTUSD"' not in html
    assert 'data-market="DOGEUSD"' in html
    assert "No data" in html or "Last data:" in html
    assert ">Start Scraping<" in html


def test_viewers_cannot_start_scraping(viewer_client, db):
    html = viewer_client.get("/scrapers/").content.decode()

    assert "Start Scraping" not in html


def test_the_partial_refreshes_on_the_event(operator_client, db):
    html = operator_client.get("/scrapers/", **HTMX).content.decode()

    assert html.lstrip().startswith('<div id="scrapers"')
    assert 'hx-trigger="sessionsChanged from:body"' in html


def test_available_markets_tell_the_archives_last_data_time(operator_client, db, settings, tmp_path):
    import time

    import numpy as np

    from bots import archive
    from bots.candles import Candles

    settings.DATA_ROOT = tmp_path
    two_hours_ago = (int(time.time()) - 2 * 3600) // 60 * 60
    times = np.array([two_hours_ago - 60, two_hours_ago])
    prices = np.array([100.0, 101.0])
    archive.write(
        str(tmp_path), "sim", "SOLUSD", "1m", Candles(times, prices, prices, prices, prices, prices)
    )

    html = operator_client.get("/scrapers/").content.decode()

    sol = html[html.index('data-market="SOLUSD"') :]
    assert "Last data: 2h ago" in sol[:600]
    doge = html[html.index('data-market="DOGEUSD"') :]
    assert "No data" in doge[:600]
