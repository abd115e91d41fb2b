"""Start Scraping on the Scrapers tab runs a MarketScraper on the real worker; Stop ends it."""

import pytest
from playwright.sync_api import expect

from sessions_app.models import Session
from tests.browser.helpers import row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_start_scraping_a_market_puts_it_under_active_scrapers_and_stop_gives_it_back(
    operator_page, worker, screenshot
):
    page = operator_page
    page.get_by_role("link", name="Scrapers").click()
    active = page.locator("section", has=page.locator("#active-title"))
    available = page.locator("section", has=page.locator("#available-title"))
    expect(active.get_by_role("heading")).to_have_text("ACTIVE SCRAPERS (0)")
    solusd = available.locator('[data-market="SOLUSD"]')
    expect(solusd).to_contain_text("sim")

    solusd.get_by_role("button", name="Start Scraping").click()
    expect(active.get_by_role("heading")).to_have_text("ACTIVE SCRAPERS (1)")
    expect(solusd).to_have_count(0)  # no longer offered
    session = Session.objects.get(type="scraper")
    assert (session.market, session.strategy, session.status) == ("SOLUSD", "MarketScraper", "running")
    scraper = row(active, session.pk)
    expect(scraper).to_have_attribute("data-status", "running")
    expect(scraper).to_contain_text("SOLUSD Scraper")
    expect(scraper).to_contain_text("/archive/sim/SOLUSD/")
    expect(scraper).not_to_contain_text("Waiting for a worker", timeout=20_000)
    screenshot(page, "scrapers")

    scraper.get_by_role("button", name="Stop").click()
    expect(row(active, session.pk)).to_have_count(0, timeout=10_000)
    expect(active.get_by_role("heading")).to_have_text("ACTIVE SCRAPERS (0)")
    expect(available.locator('[data-market="SOLUSD"]')).to_have_count(1)
    session.refresh_from_db()
    assert session.status == "stopped"
